import Mustache

// The models a page repeats per row answer Mustache's lookups by name: without this, every `{{name}}` builds a Mirror
// and searches its children, which was four fifths of the connections list's time (50 rows × 15 names).
// Each `child(named:)` lists exactly the stored properties, as the Mirror would find them.

extension ConnectionRowModel: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "merchantId": merchantId
        case "detailPath": detailPath
        case "partnerReference": partnerReference
        case "badge": badge
        case "scopes": scopes
        case "expires": expires
        case "lastRefreshed": lastRefreshed
        case "lastChecked": lastChecked
        case "lastError": lastError
        default: nil
        }
    }
}

extension StatusBadgeModel: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "label": label
        case "tone": tone
        default: nil
        }
    }
}

extension MomentModel: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "relative": relative
        case "exact": exact
        case "iso": iso
        default: nil
        }
    }
}

extension AuditRowModel: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "id": id
        case "at": at
        case "actor": actor
        case "action": action
        case "merchantId": merchantId
        case "merchantPath": merchantPath
        case "detail": detail
        default: nil
        }
    }
}
