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
struct AdminPageContext: MustacheParent {
    let model: Any
    let nav: AdminNavModel

    func child(named name: String) -> Any? {
        if name == "nav" { return nav }
        if let parent = model as? MustacheParent { return parent.child(named: name) }
        guard let value = Mirror(reflecting: model).children.first(where: { $0.label == name })?.value else { return nil }
        // As Mustache's own lookup: an Optional's value, or nothing for nil.
        let optional = Mirror(reflecting: value)
        guard optional.displayStyle == .optional else { return value }
        return optional.children.first?.value
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
