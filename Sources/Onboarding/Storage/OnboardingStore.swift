import Foundation

/// Everything the domain keeps: the composition of one store protocol per realm, so each consumer can hold only the
/// one it needs. SQLite today (`AppDatabase`), PostgreSQL later.
///
/// Each write is one transaction; each method is named after what it means, not how it is stored.
/// `Tests/OnboardingTests/StoreContractTests.swift` is the contract every engine must pass.
protocol OnboardingStore:
    AuthorizationStore, ConnectionStore, DashboardStore, AuditLog, TokenLifeStore, RetentionStore, SealedValueStore, AdminStore, PartnerStore,
    OnboardingLinkStore, WebhookOutboxStore, IdempotencyStore, SignInStore
{}
