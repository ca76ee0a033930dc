/// `compose.yaml`: one service per process type, scaled by `deploy.replicas`
/// (0 for types that do not run, so `docker compose up --scale` can start them).
enum ComposeExporter {
    static func render(_ export: Export) throws(Diagnostic) -> [ExportedFile] {
        let image = try export.requiredImage()
        var notes = [
            "PORT is each type's first port in every replica: replicas have their own network, so they",
            "do not clash, but the per-instance ports of `swiftman start` cannot be expressed.",
            "Add `ports:` to publish a service. Every \"$\" is doubled, so compose leaves it to the shell.",
            "working_dir is the root on the exporting machine: the image must hold the app there.",
        ]
        if !export.envFileReferences.isEmpty {
            notes.append("compose reads the env_file files itself, with its own .env syntax.")
        }
        if export.types.contains(where: { type in
            if case .port = type.health ?? type.check { return true }
            return false
        }) {
            notes.append("Port checks are healthchecks running `nc -z 127.0.0.1 PORT`: the image needs nc.")
        }
        if !export.healthChecked.isEmpty {
            notes.append("Health checks are the healthcheck of \(export.healthChecked.joined(separator: ", ")) (its ready check's, if any, is replaced);")
            notes.append("not carried: compose marks an unhealthy container but does not restart it.")
        }
        notes.append("stdin stays open (stdin_open: true), as `swiftman start` keeps it: watchers do not exit at once.")
        if let local = export.localVariablesNote { notes.append(local) }
        let lineChecks = export.types.filter { if case .line = $0.check { return true }; return false }
        if !lineChecks.isEmpty {
            notes.append("Not carried: line checks (\(lineChecks.map(\.name).joined(separator: ", "))); their dependents wait for service_started.")
        }
        let services = export.types.map { type in (type.name, service(type, image: image, export)) }
        return [ExportedFile(path: "compose.yaml",
                             contents: export.hashBanner(notes) + YAMLValue.map([("services", .map(services))]).document)]
    }

    static func service(_ type: Export.ProcessTypeExport, image: String, _ export: Export) -> YAMLValue {
        func string(_ text: String) -> YAMLValue { .string(ExportText.dollarsEscaped(text)) }
        var entries: [(String, YAMLValue)] = [
            ("image", string(image)),
            ("command", .list(["/bin/sh", "-c", type.command].map(string))),
            ("working_dir", string(export.root)),
        ]
        if let user = export.options.user { entries.append(("user", string(user))) }
        if !type.after.isEmpty {
            entries.append(("depends_on", .map(type.after.map { name in
                let condition: String
                switch export.type(name)?.check {
                case .port?, .command?, .http?: condition = "service_healthy"
                case .exit?: condition = "service_completed_successfully"
                case .line?, nil: condition = "service_started"
                }
                return (name, .map([("condition", .string(condition))]))
            })))
        }
        if !export.envFileReferences.isEmpty {
            entries.append(("env_file", .list(export.envFileReferences.map(string))))
        }
        // `environment` wins over `env_file`, so PORT holds even when a file sets it.
        let environment = export.inlineEnvironment + [("PORT", String(type.port))]
        entries += [
            ("environment", .map(environment.map { ($0.key, string($0.value)) })),
            ("deploy", .map([("replicas", .int(type.count))])),
            ("restart", .string(ExportText.restart(type.restart))),
            ("stop_signal", .string(ExportText.signal(type.stopSignal))),
            ("stop_grace_period", .string(ExportText.duration(export.timeoutSeconds))),
            // Open and never at EOF, as under `swiftman start` (`esbuild --watch` exits at EOF).
            ("stdin_open", .bool(true)),
        ]
        func probe(_ check: ReadyCheck?) -> String? {
            switch check {
            case .port?: return "nc -z 127.0.0.1 \(type.port)"
            case .command(let command)?: return command
            case .http(let path, let status)?: return ExportText.httpProbe(path: path, status: status, port: type.port)
            default: return nil
            }
        }
        // One healthcheck per service: the health check's when there is one.
        let test: (command: String, interval: Int, retries: Int)?
        if let command = probe(type.health) {
            test = (command, export.healthIntervalSeconds, export.healthRetries)
        } else {
            test = probe(type.check).map { ($0, 1, max(1, ExportText.wholeSeconds(export.readyTimeoutSeconds))) }
        }
        if let test {
            entries.append(("healthcheck", .map([
                ("test", .list([.string("CMD-SHELL"), string(test.command)])),
                ("interval", .string("\(test.interval)s")),
                ("retries", .int(test.retries)),
            ])))
        }
        return .map(entries)
    }
}
