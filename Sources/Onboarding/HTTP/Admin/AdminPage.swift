import Hummingbird
import Mustache

/// The dashboard's sections, as its navigation names them.
enum AdminSection: String, Sendable, CaseIterable {
    case overview, connections, partners, audit, admins, account
}

/// The navigation every signed-in admin page shows: which section is current, and Admins for owners only.
struct AdminNavModel: Sendable, MustacheParent {
    var current: AdminSection
    var showsAdmins: Bool
    var adminName: String

    init(_ session: AdminSession, current: AdminSection) {
        self.current = current
        showsAdmins = session.admin.role >= .owner
        adminName = session.admin.name
    }

    func child(named name: String) -> Any? {
        switch name {
        case "showsAdmins": showsAdmins
        case "adminName": adminName
        default: AdminSection(rawValue: name).map { $0 == current }
        }
    }
}

/// A page's model with the navigation beside it: `{{#nav}}` reads the navigation, every other name the page's model.
///
/// The model's properties are read once, here: Mustache asks this context for every name a row lacks (a nil optional
/// of each of 50 rows), and a `Mirror` per question cost more than the rows themselves.
struct AdminPageContext: MustacheParent {
    let nav: AdminNavModel
    private let model: Any
    private let properties: [String: Any]

    init(model: Any, nav: AdminNavModel) {
        self.model = model
        self.nav = nav
        var properties: [String: Any] = [:]
        if !(model is MustacheParent) {
            for child in Mirror(reflecting: model).children {
                guard let label = child.label else { continue }
                // As Mustache's own lookup: an Optional's value, or nothing for nil.
                let optional = Mirror(reflecting: child.value)
                if optional.displayStyle == .optional {
                    if let value = optional.children.first?.value { properties[label] = value }
                } else {
                    properties[label] = child.value
                }
            }
        }
        self.properties = properties
    }

    func child(named name: String) -> Any? {
        if name == "nav" { return nav }
        if let parent = model as? MustacheParent { return parent.child(named: name) }
        return properties[name]
    }
}

extension PageRenderer {
    /// Renders an admin page (its template extends `admin-page`) with the dashboard's navigation for `session`.
    func adminPage(
        _ template: String,
        _ model: Any,
        session: AdminSession,
        section: AdminSection,
        status: HTTPResponse.Status = .ok
    ) -> Response {
        page(template, AdminPageContext(model: model, nav: AdminNavModel(session, current: section)), status: status)
    }
}
