import Hummingbird

/// The request context every route starts with; each realm's group derives its own from it.
struct AppRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage

    init(source: Source) {
        self.coreContext = .init(source: source)
    }
}
