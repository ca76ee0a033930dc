import SwiftmanModel
import SwiftmanPlatform
import SwiftmanRuntime

/// `swiftman logs [TARGET…]`: what the running formation printed lately.
enum LogsCommand {
    static let command = Command(
        name: "logs", usage: "logs [TARGET…]", summary: "print what the running formation's processes printed lately",
        help: """
            Usage: swiftman logs [TYPE|TYPE.N…] [-n N] [--since DURATION] [-f] [OPTIONS]

            Prints the lines the formation kept (each instance's recent output and the
            system lines, within --history per instance) in the order they were relayed,
            with the usual prefixes, then exits; with TARGETs only theirs. -n N prints
            the last N (after the target filter); -f keeps printing new lines until the
            formation ends. A reader that stops reading never slows the formation.
            """,
        options: ControlOptions.options.filter { $0.long != "procfile" } + [
            Option(long: "procfile", short: nil, valueName: "PATH", help: "Procfile of the running formation (finds its root)"),
            Option(long: "lines", short: "n", valueName: "N", help: "only the last N lines"),
            Option(long: "since", short: nil, valueName: "DURATION", help: "only lines printed in the last DURATION (90s, 5m)"),
            Option(long: "follow", short: "f", valueName: nil, help: "keep printing new lines until the formation ends"),
            Option(long: "color", short: nil, valueName: nil, help: "colour the prefixes even when stdout is not a terminal"),
            Option(long: "no-color", short: nil, valueName: nil, help: "never colour (also: NO_COLOR set to anything)"),
            Option(long: "no-timestamp", short: nil, valueName: nil, help: "leave the time out of the prefix"),
            Option(long: "no-prefix", short: nil, valueName: nil, help: "print the lines alone"),
            Option(long: "log-format", short: nil, valueName: "FORMAT", help: "text (default) or json"),
        ],
        positionals: .types, run: run)

    static func run(_ raw: [String], environment: [String: String]) throws -> Int32 {
        guard let args = try command.arguments(raw, environment: environment) else { return 0 }
        var query = LogsQuery()
        query.targets = args.positionals
        guard query.targets.count <= 64 else { throw UsageError(message: "at most 64 targets") }
        for target in query.targets where !ControlRequest.isName(target) {
            throw UsageError(message: "invalid target \"\(target)\" (expected TYPE or TYPE.N)")
        }
        if let text = args["lines"] {
            guard let n = Int(text), n >= 0, n <= 100_000_000 else { throw UsageError(message: "\(args.source("lines")): invalid number of lines \"\(text)\"") }
            query.last = n
        }
        if let text = args["since"] {
            guard let ns = Durations.parse(text) else {
                throw UsageError(message: "\(args.source("since")): invalid duration \"\(text)\" (e.g. 90s, 5m, 1h)")
            }
            query.since = max(0, WallTime.nowMilliseconds() - Int(ns / 1_000_000))
        }
        query.follow = args.flag("follow")
        switch args["log-format"] ?? "text" {
        case "text": break
        case "json": query.json = true
        case let other: throw UsageError(message: "\(args.source("log-format")): expected text or json, got \"\(other)\"")
        }
        query.color = args.flag("color")
            || (!args.flag("no-color") && environment["NO_COLOR"] == nil && FileDescriptor.standardOutput.isTerminal)
        query.timestamp = !args.flag("no-timestamp")
        query.prefix = !args.flag("no-prefix")

        let root = ControlOptions.root(args)
        let path = try ControlOptions.socketPath(args, root: root, environment: environment).path
        let fd: FileDescriptor
        do throws(ControlClient.Failure) {
            fd = try ControlClient.connect(to: path, timeoutMs: 10_000)
        } catch {
            switch error {
            case .notRunning, .refused: CLI.printError(ControlCall.notRunning(command.name, root: root, path: path))
            case .untrusted: CLI.printError("logs: \(path): the server there does not run as you: not trusting it")
            case .timedOut: CLI.printError("logs: \(path): no reply")
            case .failed(let reason): CLI.printError("logs: \(path): \(reason)")
            }
            return 1
        }
        defer { fd.close() }
        do throws(Errno) {
            try fd.sendAll(Array(ControlRequest.logs(query).encoded.utf8))
        } catch {
            CLI.printError("logs: \(path): \(error)")
            return 1
        }
        // A follower waits for lines as long as the formation runs.
        if query.follow { fd.clearTimeouts() }
        var first: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var answered = false
        while true {
            let received = buffer.withUnsafeMutableBytes { raw in Result { () throws(Errno) in try fd.read(into: raw) } }
            guard case .success(let n) = received, n > 0 else {
                if case .failure(let error) = received {
                    CLI.printError("logs: \(error == .wouldBlock ? "no reply within 10s" : "\(error)")")
                    return 1
                }
                break
            }
            var chunk = buffer[0..<n]
            if !answered {
                first += chunk
                guard let newline = first.firstIndex(of: 10) else { continue }
                let line = String(decoding: first[..<newline], as: UTF8.self)
                if line != "ok" {
                    guard case .error(let failure)? = ControlReply.parse(line) else {
                        CLI.printError("logs: malformed reply from the formation")
                        return 1
                    }
                    CLI.printError("logs: \(failure.message)")
                    return ControlCall.exitCode(failure.kind)
                }
                answered = true
                chunk = first[(newline + 1)...]
            }
            do throws(Errno) {
                try FileDescriptor.standardOutput.writeAll(Array(chunk))
            } catch {
                // Our reader left (a pipe into head): done.
                return error == .brokenPipe ? 0 : 1
            }
        }
        if !answered {
            CLI.printError("logs: no reply from the formation")
            return 1
        }
        return 0
    }
}
