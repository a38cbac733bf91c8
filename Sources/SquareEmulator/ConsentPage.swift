import SquareOAuth

/// The emulated Square consent page: who asks, for what, as which seller; Allow or Deny.
struct ConsentPage: Sendable, Equatable {
    var requestId: String
    var applicationName: String
    var scopes: [String]
    var merchants: [EmulatedMerchant]
    var usesPKCE: Bool

    var html: String {
        let scopeItems = scopes.map { "<li><strong>\(escape(SquareScope.describe($0)))</strong> <code>\(escape($0))</code></li>" }
        let merchantOptions =
            merchants.map {
                "<option value=\"\(escape($0.id))\">\(escape($0.businessName)) (\(escape($0.id)))</option>"
            } + ["<option value=\"new\">A new sandbox seller…</option>"]
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Square Sandbox Emulator — Authorize \(escape(applicationName))</title>
            <style>\(EmulatorPageStyle.css)</style></head>
            <body><main class="card">
            <p class="badge">Square Sandbox Emulator</p>
            <h1><span id="app-name">\(escape(applicationName))</span> would like to</h1>
            <ul id="scopes">\(scopeItems.joined())</ul>
            <form method="post" action="/oauth2/authorize/decision">
            <input type="hidden" name="request_id" value="\(escape(requestId))">
            <label for="merchant_id">Sign in as</label>
            <select id="merchant_id" name="merchant_id">\(merchantOptions.joined())</select>
            <label for="business_name">Business name for a new seller</label>
            <input id="business_name" name="business_name" maxlength="80" placeholder="Sandbox Seller">
            <div class="actions">
            <button id="allow" type="submit" name="decision" value="allow">Allow</button>
            <button id="deny" type="submit" name="decision" value="deny" class="secondary">Deny</button>
            </div></form>
            <p class="note">\(usesPKCE ? "PKCE (S256) authorization." : "Authorization code flow.") No real Square account is involved.</p>
            </main></body></html>
            """
    }
}

/// The emulator's error page.
struct EmulatorErrorPage: Sendable {
    var title: String
    var message: String

    var html: String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>Square Sandbox Emulator — \(escape(title))</title>
        <style>\(EmulatorPageStyle.css)</style></head>
        <body><main class="card"><p class="badge">Square Sandbox Emulator</p>
        <h1>\(escape(title))</h1><p>\(escape(message))</p></main></body></html>
        """
    }
}

enum EmulatorPageStyle {
    static let css = """
        body{font-family:system-ui,sans-serif;background:#f4f5f7;color:#1a1a1a;margin:0;padding:2rem}
        .card{max-width:32rem;margin:auto;background:#fff;border-radius:12px;padding:2rem;box-shadow:0 2px 12px #0002}
        .badge{display:inline-block;background:#006aff;color:#fff;border-radius:6px;padding:.2rem .6rem;font-size:.8rem}
        ul{padding-left:1.2rem}li{margin:.4rem 0}code{color:#666;font-size:.8rem}
        label{display:block;margin-top:1rem;font-weight:600}select,input{box-sizing:border-box;width:100%;padding:.5rem;margin-top:.3rem}
        .actions{display:flex;gap:1rem;margin-top:1.5rem}button{flex:1;padding:.7rem;border:0;border-radius:8px;
        background:#006aff;color:#fff;font-size:1rem;cursor:pointer}button.secondary{background:#e3e5e8;color:#1a1a1a}
        .note{color:#666;font-size:.8rem;margin-top:1.5rem}
        """
}

/// HTML-escapes text for element content and quoted attribute values.
func escape(_ text: String) -> String {
    var escaped = ""
    escaped.reserveCapacity(text.count)
    for character in text {
        switch character {
        case "&": escaped += "&amp;"
        case "<": escaped += "&lt;"
        case ">": escaped += "&gt;"
        case "\"": escaped += "&quot;"
        case "'": escaped += "&#39;"
        default: escaped.append(character)
        }
    }
    return escaped
}
