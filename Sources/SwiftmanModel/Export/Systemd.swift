/// `APP.target` plus one `APP-TYPE-N.service` per instance: each instance has its
/// own PORT, which a template unit (`APP-web@.service`) could not compute.
/// Types with count 0 get no unit.
///
/// Each service also has an `APP-TYPE-N.socket` holding a FIFO for its stdin:
/// `swiftman start` keeps stdin open (watchers like `esbuild --watch` exit at
/// EOF), and systemd's other inputs do not: `null` and `file:/dev/null` are at
/// EOF, `file:/dev/zero` never blocks (a reader spins), `file:` on a FIFO
/// blocks the start until a writer comes, `tty` takes a terminal and `socket`
/// needs Accept=yes. A ListenFIFO= socket is opened read-write by systemd, so
/// it never reaches EOF, and passed as `StandardInput=fd:stdin` (non-blocking:
/// Go, Node and libuv programs read it as usual).
enum SystemdExporter {
    static func render(_ export: Export) throws(Diagnostic) -> [ExportedFile] {
        let instances = export.instances
        var notes: [String] = ["Start with: systemctl daemon-reload && systemctl enable --now \(export.app).target"]
        if !export.envFileReferences.isEmpty {
            notes += ["systemd reads the EnvironmentFile= files itself (KEY=value lines, quotes, no ${VAR} interpolation).",
                      "They override Environment=, so PORT and PS are set by /usr/bin/env in ExecStart= instead."]
        }
        if export.types.contains(where: { !$0.after.isEmpty }) {
            notes.append("--after is After=/Requires= on every instance of the dependency; an exit check is Type=oneshot.")
        }
        let unchecked = export.types.filter { type in
            guard let check = type.check, check != .exit else { return false }
            return export.types.contains { $0.after.contains(type.name) }
        }
        if !unchecked.isEmpty {
            notes.append("Not carried: systemd cannot run the ready checks of \(unchecked.map(\.name).joined(separator: ", ")) (port, line, cmd):")
            notes.append("its dependents start once it has started, not once it is ready.")
        }
        if !export.healthChecked.isEmpty {
            notes.append("Not carried: systemd cannot run the health checks of \(export.healthChecked.joined(separator: ", ")).")
        }
        notes.append("stdin stays open as under `swiftman start`: each service reads a FIFO of its own .socket unit.")
        let wants = instances.isEmpty ? "" : "Wants=" + instances.map { $0.unitName + ".service" }.joined(separator: " ") + "\n"
        let target = export.hashBanner(notes) + """
            [Unit]
            Description=\(export.app) (swiftman export)
            \(wants)
            [Install]
            WantedBy=multi-user.target

            """
        return [ExportedFile(path: "\(export.app).target", contents: target)]
            + instances.flatMap { [ExportedFile(path: $0.unitName + ".service", contents: service($0, export)),
                                   ExportedFile(path: $0.unitName + ".socket", contents: stdinSocket($0, export))] }
    }

    /// The FIFO the instance's stdin reads (systemd holds it open read-write).
    static func stdinSocket(_ instance: Export.Instance, _ export: Export) -> String {
        let lines = [
            "[Unit]",
            "Description=\(export.app) \(instance.ps) stdin",
            "PartOf=\(export.app).target",
            "",
            "[Socket]",
            "ListenFIFO=/run/\(instance.unitName).stdin",
            "SocketMode=0600",
            "FileDescriptorName=stdin",
            "RemoveOnStop=yes",
            "Service=\(instance.unitName).service",
        ]
        return export.hashBanner([]) + lines.map { $0 + "\n" }.joined()
    }

    static func service(_ instance: Export.Instance, _ export: Export) -> String {
        var lines = [
            "[Unit]",
            "Description=\(export.app) \(instance.ps)",
            "PartOf=\(export.app).target",
        ]
        let dependencies = instance.type.after.flatMap { name in
            export.instances.filter { $0.type.name == name }.map { $0.unitName + ".service" }
        }
        if !dependencies.isEmpty {
            // Stop runs After= backwards: dependents stop before what they need.
            lines.append("After=" + dependencies.joined(separator: " "))
            lines.append("Requires=" + dependencies.joined(separator: " "))
        }
        lines += ["", "[Service]"]
        if instance.type.check == .exit {
            // Dependents start once it has exited successfully.
            lines += ["Type=oneshot", "RemainAfterExit=yes"]
        }
        if let user = export.options.user { lines.append("User=" + escaped(user)) }
        lines.append("WorkingDirectory=" + escaped(export.root))
        // Open stdin; output must then be named, or it would follow stdin.
        lines += ["Sockets=\(instance.unitName).socket", "StandardInput=fd:stdin",
                  "StandardOutput=journal", "StandardError=journal"]
        lines += export.envFileReferences.map { "EnvironmentFile=" + escaped($0) }
        var environment = export.inlineEnvironment
        var execStart = "/bin/sh -c " + quoted(instance.type.command, dollars: true)
        if export.envFileReferences.isEmpty {
            environment += [("PORT", String(instance.port)), ("PS", instance.ps)]
        } else {
            execStart = "/usr/bin/env PORT=\(instance.port) PS=\(instance.ps) " + execStart
        }
        lines += environment.map { "Environment=" + quoted("\($0.key)=\($0.value)", dollars: false) }
        lines.append("ExecStart=" + execStart)
        lines += [
            "Restart=" + ExportText.restart(instance.type.restart),
            // swiftman signals each instance's whole process group, and so does this.
            "KillMode=control-group",
            "KillSignal=" + ExportText.signal(instance.type.stopSignal),
            // systemd reads 0 as "no timeout"; swiftman's 0 means "kill at once".
            "TimeoutStopSec=" + ExportText.duration(max(export.timeoutSeconds, 0.001)),
        ]
        return export.hashBanner([]) + lines.map { $0 + "\n" }.joined()
    }

    /// A value taken verbatim to the end of the line: only "%" (specifiers) is special.
    static func escaped(_ text: String) -> String { text.replacing("%", with: "%%") }

    /// One double-quoted word with C escapes, "%%" for specifiers, and with
    /// `dollars` "$$" for the variable substitution of ExecStart=.
    static func quoted(_ text: String, dollars: Bool) -> String {
        CEscape.quoted(text) { scalar in
            switch scalar {
            case "%": return "%%"
            case "$" where dollars: return "$$"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F: return "\\x" + YAML.hex(scalar.value, width: 2)
            default: return nil
            }
        }
    }
}
