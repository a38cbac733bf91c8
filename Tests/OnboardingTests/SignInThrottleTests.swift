import Foundation
import Testing

@testable import Onboarding

/// The sign-in throttle on its own: a sliding window per key, tries at the same moment, a bounded table.
@Suite("Sign-in throttle")
struct SignInThrottleTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func theSixthTryInTheWindowWaitsUntilTheOldestLeavesIt() {
        let throttle = SignInThrottle(limit: 5, window: 900)
        for minute in 0..<5 { #expect(throttle.attempt(["name:amy"], now: Self.start.addingTimeInterval(Double(minute) * 60)) == nil) }
        let sixth = Self.start.addingTimeInterval(300)
        #expect(throttle.attempt(["name:amy"], now: sixth) == 600, "the first failure leaves the window at 15:00")
        #expect(throttle.attempt(["name:bob"], now: sixth) == nil, "other keys are counted apart")
        #expect(throttle.attempt(["name:bob", "name:amy"], now: sixth) == 600, "one resting key refuses the try")
        #expect(throttle.attempt(["name:amy"], now: Self.start.addingTimeInterval(900)) == nil)
        #expect(throttle.attempt(["name:amy"], now: Self.start.addingTimeInterval(901)) == 59, "now the second one must leave")
    }

    @Test func triesAtTheSameMomentCannotPassTheLimitTogether() async {
        let throttle = SignInThrottle(limit: 5, window: 900)
        let allowed = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<50 { group.addTask { throttle.attempt(["name:amy", "address:203.0.113.9"], now: Self.start) == nil } }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(allowed == 5)
    }

    @Test func aGoodTryClearsItsNameAndIsTakenBackFromItsAddress() {
        let throttle = SignInThrottle(limit: 2, window: 900)
        #expect(throttle.attempt(["name:amy", "address:a"], now: Self.start) == nil)
        let good = Self.start.addingTimeInterval(1)
        #expect(throttle.attempt(["name:amy", "address:a"], now: good) == nil)
        throttle.succeeded(["name:amy", "address:a"], at: good, clearing: "name:amy")
        #expect(throttle.attempt(["name:amy"], now: good) == nil, "amy's failures are forgotten")
        #expect(throttle.attempt(["address:a"], now: good) == nil, "the address keeps its one failure, and takes a second")
        #expect(throttle.attempt(["address:a"], now: good) != nil)
    }

    @Test func theTableKeepsTheMostRecentKeysWithinItsCapacity() {
        let throttle = SignInThrottle(limit: 5, window: 900, capacity: 3)
        for index in 0..<10 { _ = throttle.attempt(["address:\(index)"], now: Self.start.addingTimeInterval(Double(index))) }
        #expect(throttle.keyCount == 3)
        for _ in 0..<4 { _ = throttle.attempt(["address:9"], now: Self.start.addingTimeInterval(20)) }
        #expect(throttle.attempt(["address:9"], now: Self.start.addingTimeInterval(20)) != nil, "a recent key was kept")
    }
}
