/// `http:PATH[=STATUS]` checks as values: the request swiftman sends and the
/// reading of the reply's status line (the runtime does the I/O, without
/// blocking). Only the status line is read: headers and body never are, so a
/// huge header or a body that never ends cannot hold a try up.
public enum HTTPCheck {
    /// The longest status line read (`HTTP/1.1 503 Service Unavailable\r\n` is
    /// 36 bytes); a first line longer than this is not an HTTP reply.
    public static let statusLineLimit = 256

    /// What the bytes received so far say.
    public enum Reply: Equatable, Sendable {
        /// No complete status line yet: read on.
        case incomplete
        case status(Int)
        /// Not an HTTP reply (garbage, an oversized first line, a reply cut
        /// short): a failed try.
        case invalid(String)
    }

    /// `GET PATH HTTP/1.1` to 127.0.0.1:`port`, asking the server to close.
    public static func request(path: String, port: Int) -> [UInt8] {
        Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUser-Agent: swiftman\r\nAccept: */*\r\nConnection: close\r\n\r\n".utf8)
    }

    /// Reads the status line at the start of `bytes` (everything received so
    /// far); `ended` when the server has closed its side.
    public static func reply(_ bytes: some Collection<UInt8>, ended: Bool) -> Reply {
        let prefix = Array("HTTP/".utf8)
        let head = Array(bytes.prefix(statusLineLimit + 1))
        // Garbage is known at its first byte, not at the timeout.
        for (index, byte) in head.prefix(prefix.count).enumerated() where byte != prefix[index] {
            return .invalid("not an HTTP reply")
        }
        guard let newline = head.firstIndex(of: 0x0A) else {
            if head.count > statusLineLimit { return .invalid("status line longer than \(statusLineLimit) bytes") }
            if ended { return .invalid(head.isEmpty ? "closed without a reply" : "reply cut short") }
            return .incomplete
        }
        var line = head[..<newline]
        if line.last == 0x0D { line = line.dropLast() }
        return statusCode(Array(line)).map(Reply.status) ?? .invalid("not an HTTP reply")
    }

    /// `HTTP/1.1 200 OK` → 200: `HTTP/` then a version (digits and dots), a
    /// space, three digits (100…599), then the end or a space and a reason.
    static func statusCode(_ line: [UInt8]) -> Int? {
        guard line.count >= 10, let space = line.firstIndex(of: 0x20) else { return nil }
        let version = line[5..<space]
        guard let first = version.first, isDigit(first), version.allSatisfy({ isDigit($0) || $0 == 0x2E }) else { return nil }
        let code = line[(space + 1)...].prefix(3)
        guard code.count == 3, code.allSatisfy(isDigit) else { return nil }
        let rest = line[(space + 4)...]
        guard rest.isEmpty || rest.first == 0x20 else { return nil }
        let value = code.reduce(0) { $0 * 10 + Int($1 - 0x30) }
        return (100...599).contains(value) ? value : nil
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    /// A 2xx or 3xx passes, or exactly `expected` when given.
    public static func passes(_ status: Int, expected: Int?) -> Bool {
        expected.map { status == $0 } ?? (200...399).contains(status)
    }

    /// `http:/up` or `http:/up=204`: the path (from `/`, no spaces or control
    /// characters: it goes into the request line as is) and the status.
    static func parse(_ text: String) -> (path: String, status: Int?)? {
        guard text.hasPrefix("http:") else { return nil }
        var path = String(text.dropFirst(5))
        var status: Int?
        if let eq = path.lastIndex(of: "="), let code = Int(path[path.index(after: eq)...]),
           path.distance(from: eq, to: path.endIndex) == 4, (100...599).contains(code) {
            status = code
            path = String(path[..<eq])
        }
        guard path.hasPrefix("/"), path.utf8.allSatisfy({ $0 > 0x20 && $0 != 0x7F }) else { return nil }
        return (path, status)
    }
}
