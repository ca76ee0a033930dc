/// `APP.conf`: one `[program:APP-TYPE-N]` per instance, since supervisord cannot
/// compute PORT from `%(process_num)d` (it substitutes, it does not add), and a
/// `[group:APP]` holding them all. Types with count 0 get no program.
enum SupervisordExporter {
    static func render(_ export: Export) throws(Diagnostic) -> [ExportedFile] {
        guard export.envFileReferences.isEmpty else {
            throw Diagnostic("--env-ref", "supervisord cannot read env files; leave --env-ref out to inline their values")
        }
        // In start order: supervisord starts a group's programs in the order of
        // its programs= list, and priority= orders `supervisorctl` and the stop.
        let instances = export.typesInStartOrder.flatMap { type in export.instances.filter { $0.type.name == type.name } }
        var notes = ["Control them together: supervisorctl start '\(export.app):*'"]
        if export.hasStartOrder {
            notes += ["--after is the start order: priority= by stage (and the programs= order), stopped in reverse.",
                      "Not carried: supervisord does not wait for a program to be ready, or a one-shot to finish,",
                      "before it starts the next stage."]
        }
        if export.types.contains(where: { $0.check == .exit }) {
            notes.append("One-shots (exit checks) run once: startsecs=0, exit 0 is expected and not restarted.")
        }
        if !export.healthChecked.isEmpty {
            notes.append("Not carried: supervisord cannot run the health checks of \(export.healthChecked.joined(separator: ", ")).")
        }
        var lines = export.banner(notes).map { "; " + $0 }
        if !instances.isEmpty {
            lines += ["", "[group:\(export.app)]", "programs=" + instances.map(\.unitName).joined(separator: ",")]
        }
        for instance in instances {
            let environment = export.inlineEnvironment + [("PORT", String(instance.port)), ("PS", instance.ps)]
            lines += ["", "[program:\(instance.unitName)]",
                      "command=/bin/sh -c " + (try command(instance.type.command, source: instance.type.name)),
                      "directory=" + (try plain(export.root, source: "root"))]
            lines.append("environment=" + (try environment.map { (key, value) throws(Diagnostic) in
                "\(key)=" + (try environmentValue(value, source: key))
            }).joined(separator: ","))
            if let user = export.options.user { lines.append("user=" + (try plain(user, source: "--user"))) }
            if export.hasStartOrder { lines.append("priority=\(priority(stage: export.stages[instance.type.name] ?? 0))") }
            if instance.type.check == .exit {
                // Done once it exits 0, however quickly (the default startsecs=1
                // would call a quick exit a failed start and retry it).
                lines.append("startsecs=0")
            }
            lines += [
                "autorestart=" + autorestart(instance.type.restart, oneShot: instance.type.check == .exit),
                "exitcodes=0",
                "stopsignal=" + signal(instance.type.stopSignal),
                "stopwaitsecs=\(ExportText.wholeSeconds(export.timeoutSeconds))",
                // swiftman signals each instance's whole process group, and so does this.
                "stopasgroup=true",
                "killasgroup=true",
            ]
        }
        return [ExportedFile(path: "\(export.app).conf", contents: lines.map { $0 + "\n" }.joined())]
    }

    /// Lower starts first (supervisord's default is 999).
    static func priority(stage: Int) -> Int { 100 * (stage + 1) }

    static func autorestart(_ policy: RestartPolicy, oneShot: Bool = false) -> String {
        // A one-shot that exited 0 is done whatever the policy (as in `start`).
        if oneShot { return policy == .never ? "false" : "unexpected" }
        switch policy {
        case .onFailure: return "unexpected"
        case .always: return "true"
        case .never: return "false"
        }
    }

    /// `QUIT` for SIGQUIT; the number for signals without a name.
    static func signal(_ signal: Signal) -> String {
        let text = ExportText.signal(signal)
        return text.hasPrefix("SIG") ? String(text.dropFirst(3)) : text
    }

    /// `command=`, which supervisord splits with shlex in POSIX mode: one
    /// double-quoted word (only `\\` and `\"` are escaped), with "%%" for its
    /// `%(name)s` expansion, and every ";" and "#" after an empty `""` so that no
    /// "blank ;" or "blank #" starts an inline comment.
    static func command(_ text: String, source: String) throws(Diagnostic) -> String {
        try checkLine(text, source: source)
        var out = "\""
        for character in text {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "%": out += "%%"
            case ";", "#": out += "\"\"" + String(character)
            default: out.append(character)
            }
        }
        return out + "\""
    }

    /// An `environment=` value. Released supervisord (4.x) splits it with shlex in
    /// non-POSIX mode and strips quotes from the ends: no escapes at all, so the
    /// value goes in single quotes, else in double quotes, else it is an error.
    static func environmentValue(_ text: String, source: String) throws(Diagnostic) -> String {
        let value = try plain(text, source: source)
        let edges = [value.first, value.last]
        if !value.contains("'") && !edges.contains("\"") { return "'" + value + "'" }
        if !value.contains("\"") && !value.contains("\\") && !edges.contains("'") { return "\"" + value + "\"" }
        throw Diagnostic(source, "supervisord cannot hold a value with both kinds of quotes (or a backslash and a quote)")
    }

    /// A value taken as is: only "%" can be escaped, so an inline comment is an error.
    static func plain(_ text: String, source: String) throws(Diagnostic) -> String {
        try checkLine(text, source: source)
        let scalars = Array(text.unicodeScalars)
        if zip(scalars, scalars.dropFirst()).contains(where: { $0.properties.isWhitespace && ($1 == ";" || $1 == "#") }) {
            throw Diagnostic(source, "\"\(text)\" would be cut at its \" ;\" or \" #\" (an inline comment in supervisord)")
        }
        return text.replacing("%", with: "%%")
    }

    static func checkLine(_ text: String, source: String) throws(Diagnostic) {
        if text.unicodeScalars.contains(where: { $0 != "\t" && YAML.needsEscape($0) }) {
            throw Diagnostic(source, "supervisord cannot hold line breaks or control characters in a value")
        }
    }
}
