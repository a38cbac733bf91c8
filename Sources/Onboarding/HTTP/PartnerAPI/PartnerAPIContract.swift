import Foundation
import Hummingbird
import NIOCore

/// The limits the OpenAPI document sets on each operation's parameters and JSON body, read from the document itself
/// and checked before the generated code decodes a request, so every bad value is a 400 that names its parameter.
///
/// The generated code checks types, required fields and unknown fields; it does not check lengths, patterns, enums
/// of query strings, ranges or item counts. This checks those, for the subset of JSON Schema the document uses.
struct PartnerAPIContract: Sendable {
    /// One schema of the document, reduced to the keywords checked here.
    final class Schema: Sendable {
        let type: String?
        let allowed: [String]?
        let minLength: Int?
        let maxLength: Int?
        nonisolated(unsafe) let pattern: Regex<AnyRegexOutput>?
        let minimum: Int?
        let maximum: Int?
        let minItems: Int?
        let maxItems: Int?
        let items: Schema?
        let properties: [String: Schema]

        init(_ json: [String: Any], components: [String: Any]) throws {
            var json = json
            if let reference = json["$ref"] as? String, let name = reference.split(separator: "/").last,
                let resolved = components[String(name)] as? [String: Any]
            {
                json = resolved
            }
            type = json["type"] as? String
            allowed = json["enum"] as? [String]
            minLength = json["minLength"] as? Int
            maxLength = json["maxLength"] as? Int
            pattern = try (json["pattern"] as? String).map { try Regex($0) }
            minimum = json["minimum"] as? Int
            maximum = json["maximum"] as? Int
            minItems = json["minItems"] as? Int
            maxItems = json["maxItems"] as? Int
            items = try (json["items"] as? [String: Any]).map { try Schema($0, components: components) }
            properties = try (json["properties"] as? [String: Any] ?? [:]).compactMapValues { value in
                try (value as? [String: Any]).map { try Schema($0, components: components) }
            }
        }

        /// Why `value` breaks this schema, or nil when it keeps to it; `value` is a JSON value or a parameter's text.
        func violation(of value: Any, fromText: Bool) -> String? {
            switch type {
            case "integer":
                let number: Int?
                if fromText { number = (value as? String).flatMap { Int($0) } } else { number = Self.integer(value) }
                guard let number else { return "must be an integer" }
                if let minimum, number < minimum { return "must be at least \(minimum)" }
                if let maximum, number > maximum { return "must be at most \(maximum)" }
            case "string":
                guard let text = value as? String else { return "must be a string" }
                if let allowed, !allowed.contains(text) { return "must be one of \(allowed.joined(separator: ", "))" }
                let count = text.unicodeScalars.count  // JSON Schema counts code points, not grapheme clusters
                if let minLength, count < minLength { return minLength == 1 ? "must not be empty" : "must be at least \(minLength) characters" }
                if let maxLength, count > maxLength { return "must be at most \(maxLength) characters" }
                if let pattern, (try? pattern.wholeMatch(in: text)) == nil { return "has characters that are not allowed" }
            case "array":
                guard let array = value as? [Any] else { return "must be an array" }
                if let minItems, array.count < minItems { return "must have at least \(minItems) items" }
                if let maxItems, array.count > maxItems { return "must have at most \(maxItems) items" }
            default:
                break
            }
            return nil
        }

        private static func integer(_ value: Any) -> Int? {
            // JSONSerialization gives NSNumbers: `as? Int` holds only for whole numbers; true and false are not integers.
            guard !(value is Bool) else { return nil }
            return value as? Int
        }
    }

    /// A query or path parameter of one operation.
    struct Parameter: Sendable {
        var name: String
        var inPath: Bool
        var schema: Schema
    }

    /// What one operation (method and route) accepts.
    struct Operation: Sendable {
        var parameters: [Parameter]
        var body: Schema?
    }

    /// Operations by `"METHOD /api/v1/path/{param}"`, the route as the router names it.
    let operations: [String: Operation]

    init(operations: [String: Operation]) { self.operations = operations }

    init(document: Data, prefix: String) throws {
        let root = try JSONSerialization.jsonObject(with: document) as? [String: Any] ?? [:]
        let components = (root["components"] as? [String: Any])?["schemas"] as? [String: Any] ?? [:]
        var operations: [String: Operation] = [:]
        for (path, item) in root["paths"] as? [String: Any] ?? [:] {
            for (method, value) in item as? [String: Any] ?? [:] {
                guard let operation = value as? [String: Any] else { continue }
                let parameters = try (operation["parameters"] as? [[String: Any]] ?? []).compactMap { parameter -> Parameter? in
                    guard let name = parameter["name"] as? String, let location = parameter["in"] as? String,
                        location == "query" || location == "path", let schema = parameter["schema"] as? [String: Any]
                    else { return nil }
                    return Parameter(name: name, inPath: location == "path", schema: try Schema(schema, components: components))
                }
                let content = (operation["requestBody"] as? [String: Any])?["content"] as? [String: Any]
                let body = try ((content?["application/json"] as? [String: Any])?["schema"] as? [String: Any]).map {
                    try Schema($0, components: components)
                }
                operations["\(method.uppercased()) \(prefix)\(path)"] = Operation(parameters: parameters, body: body)
            }
        }
        self.operations = operations
    }

    /// Checks a request against its operation's limits; throws the first violation, naming the parameter or field.
    func check(method: String, endpoint: String, query: [String: String], path: [String: String], body: ByteBuffer) throws(PartnerError) {
        guard let operation = operations["\(method) \(endpoint)"] else { return }
        for parameter in operation.parameters {
            guard let value = parameter.inPath ? path[parameter.name] : query[parameter.name] else { continue }
            if let reason = parameter.schema.violation(of: value, fromText: true) {
                throw .invalidField(field: parameter.name, reason: reason)
            }
        }
        guard let schema = operation.body, body.readableBytes > 0,
            let json = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView), options: [.fragmentsAllowed])
        else { return }
        try Self.check(json, against: schema, field: nil)
    }

    private static func check(_ value: Any, against schema: Schema, field: String?) throws(PartnerError) {
        if value is NSNull { return }
        if let reason = schema.violation(of: value, fromText: false), let field {
            throw .invalidField(field: field, reason: reason)
        }
        if let object = value as? [String: Any] {
            for (name, property) in schema.properties.sorted(by: { $0.key < $1.key }) {
                guard let member = object[name] else { continue }
                try check(member, against: property, field: field.map { "\($0).\(name)" } ?? name)
            }
        } else if let array = value as? [Any], let items = schema.items {
            for (index, item) in array.enumerated() { try check(item, against: items, field: "\(field ?? "")[\(index)]") }
        }
    }
}

/// Checks each partner API request against `PartnerAPIContract` once the router has matched its operation.
struct PartnerContractMiddleware<Context: RequestContext>: RouterMiddleware {
    let contract: PartnerAPIContract

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let endpoint = context.endpointPath else { return try await next(request, context) }
        var query: [String: String] = [:]
        for (name, value) in request.uri.queryParameters { query[String(name)] = String(value) }
        var path: [String: String] = [:]
        for (name, value) in context.parameters { path[String(name)] = String(value) }
        var request = request
        let body = try await request.collectBody(upTo: PartnerRequestLimits<Context>.maximumBodyBytes)
        try contract.check(method: request.method.rawValue, endpoint: endpoint, query: query, path: path, body: body)
        return try await next(request, context)
    }
}
