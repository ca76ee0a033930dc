
/// `APP.yaml`: a Deployment per process type (replicas = count, 0 included), a
/// Job per one-shot type (`--ready TYPE=exit`: it runs to completion once, where
/// a Deployment would restart it forever; not an init container, which would run
/// it again in every replica of every dependent), and a Service for the types in `serviceTypes` (default: `web`), which also get
/// a named container port. Names are lowercased with "_" as "-".
enum KubernetesExporter {
    static func render(_ export: Export) throws(Diagnostic) -> [ExportedFile] {
        let image = try export.requiredImage()
        let app = try dnsLabel(export.app, source: "--app")
        let serviceTypes = export.options.serviceTypes ?? ["web"]
        for name in export.options.serviceTypes ?? [] where !export.types.contains(where: { $0.name == name }) {
            throw Diagnostic("--service", "unknown process type \"\(name)\"")
        }
        let runAsUser = try export.options.user.map { user throws(Diagnostic) in
            guard let uid = Int(user), uid >= 0 else {
                throw Diagnostic("--user", "kubernetes needs a numeric user id for runAsUser, got \"\(user)\"")
            }
            return uid
        }

        var notes = [
            "PORT is each type's first port in every replica (pods have their own network); PS is not set.",
            "Every \"$\" is doubled, so Kubernetes leaves $(…) and $VAR to the shell.",
            "workingDir is the root on the exporting machine: the image must hold the app there.",
        ]
        if !export.envFileReferences.isEmpty {
            let files = export.envFileReferences.map { " --from-env-file=" + ExportText.shellQuoted($0) }.joined()
            notes += ["Create the Secret with the env files' values first (kubectl takes KEY=value lines verbatim):",
                      "  kubectl create secret generic \(app)-env\(files)"]
        }
        if export.types.contains(where: { $0.stopSignal != .terminate }) {
            notes.append("Kubernetes always stops containers with SIGTERM; other stop signals are not exported.")
        }
        if export.types.contains(where: { !$0.after.isEmpty }) {
            notes.append("Not carried: --after (Deployments and Jobs start together; their containers must wait or retry).")
        }
        let oneShots = export.types.filter { $0.check == .exit }
        if !oneShots.isEmpty {
            notes.append("One-shots (exit checks) are Jobs that run to completion once: \(oneShots.map(\.name).joined(separator: ", ")).")
        }
        let lineChecks = export.types.filter { if case .line = $0.check { return true }; return false }
        if !lineChecks.isEmpty {
            notes.append("Not carried: line checks (\(lineChecks.map(\.name).joined(separator: ", "))); port, http and cmd checks are readiness probes.")
        }
        if export.types.contains(where: { $0.restart != .always && $0.check != .exit }) {
            notes.append("Deployments always restart their containers: on-failure and never are not exported.")
        }
        if !export.healthChecked.isEmpty {
            notes.append("Health checks are liveness probes (\(export.healthChecked.joined(separator: ", "))): periodSeconds \(export.healthIntervalSeconds), failureThreshold \(export.healthRetries).")
        }
        notes.append("stdin stays open (stdin: true), as `swiftman start` keeps it: watchers do not exit at once.")
        if let local = export.localVariablesNote { notes.append(local) }

        var documents: [YAMLValue] = []
        var seen: [String: String] = [:]
        for type in export.types {
            let name = try dnsLabel("\(app)-\(type.name)", source: type.name)
            if let other = seen.updateValue(type.name, forKey: name) {
                throw Diagnostic(type.name, "has the same Kubernetes name \"\(name)\" as \(other)")
            }
            let component = String(name.dropFirst(app.count + 1))
            let labels: YAMLValue = .map([("app.kubernetes.io/name", .string(app)),
                                          ("app.kubernetes.io/component", .string(component))])
            let service = serviceTypes.contains(type.name)
            documents.append(workload(type, name: name, component: component, labels: labels, image: image, app: app,
                                        runAsUser: runAsUser, exposesPort: service, export))
            if service {
                documents.append(.map([
                    ("apiVersion", "v1"), ("kind", "Service"),
                    ("metadata", .map([("name", .string(name)), ("labels", labels)])),
                    ("spec", .map([
                        ("selector", labels),
                        ("ports", .list([.map([("name", "http"), ("port", .int(type.port)), ("targetPort", "http")])])),
                    ])),
                ]))
            }
        }
        let yaml = documents.map(\.document).joined(separator: "---\n")
        return [ExportedFile(path: "\(export.app).yaml", contents: export.hashBanner(notes) + yaml)]
    }

    /// A Deployment, or a Job for a one-shot.
    static func workload(_ type: Export.ProcessTypeExport, name: String, component: String, labels: YAMLValue, image: String, app: String,
                           runAsUser: Int?, exposesPort: Bool, _ export: Export) -> YAMLValue {
        func string(_ text: String) -> YAMLValue { .string(ExportText.dollarsEscaped(text)) }
        // `env` wins over `envFrom`, so PORT holds even when the Secret sets it.
        let environment = export.inlineEnvironment + [("PORT", String(type.port))]
        var container: [(String, YAMLValue)] = [
            ("name", .string(component)),
            ("image", .string(image)),
            ("command", .list(["/bin/sh", "-c", type.command].map(string))),
            ("workingDir", .string(export.root)),
            ("env", .list(environment.map { .map([("name", .string($0.key)), ("value", string($0.value))]) })),
            // Open and never at EOF, as under `swiftman start` (`esbuild --watch` exits at EOF).
            ("stdin", .bool(true)),
        ]
        if !export.envFileReferences.isEmpty {
            container.append(("envFrom", .list([.map([("secretRef", .map([("name", .string(app + "-env"))]))])])))
        }
        if exposesPort {
            container.append(("ports", .list([.map([("name", "http"), ("containerPort", .int(type.port))])])))
        }
        let timing: [(String, YAMLValue)] = [("periodSeconds", .int(1)),
                                             ("failureThreshold", .int(max(1, ExportText.wholeSeconds(export.readyTimeoutSeconds))))]
        /// A check as a probe's handler: tcpSocket, httpGet or exec.
        func handler(_ check: ReadyCheck?) -> (String, YAMLValue)? {
            switch check {
            case .port?: return ("tcpSocket", .map([("port", .int(type.port))]))
            case .command(let command)?: return ("exec", .map([("command", .list(["/bin/sh", "-c", command].map(string)))]))
            case .http(let path, nil)?: return ("httpGet", .map([("path", string(path)), ("port", .int(type.port))]))
            case .http(let path, let status?)?:
                // httpGet passes on any 2xx or 3xx: an exact status needs a command.
                let command = ExportText.httpProbe(path: path, status: status, port: type.port)
                return ("exec", .map([("command", .list(["/bin/sh", "-c", command].map(string)))]))
            default: return nil
            }
        }
        if let probe = handler(type.check) { container.append(("readinessProbe", .map([probe] + timing))) }
        if let probe = handler(type.health) {
            container.append(("livenessProbe", .map([probe, ("periodSeconds", .int(export.healthIntervalSeconds)),
                                                     ("failureThreshold", .int(export.healthRetries))])))
        }
        var pod: [(String, YAMLValue)] = [("terminationGracePeriodSeconds", .int(ExportText.wholeSeconds(export.timeoutSeconds)))]
        if type.check == .exit {
            // Restart a failed run, never a finished one; `never` gives up at once.
            pod.append(("restartPolicy", .string(type.restart == .never ? "Never" : "OnFailure")))
        }
        if let runAsUser { pod.append(("securityContext", .map([("runAsUser", .int(runAsUser))]))) }
        pod.append(("containers", .list([.map(container)])))
        if type.check == .exit {
            // count copies run once each; a count of 0 is a suspended Job.
            var spec: [(String, YAMLValue)] = [("parallelism", .int(max(type.count, 1))), ("completions", .int(max(type.count, 1)))]
            if type.restart == .never { spec.append(("backoffLimit", .int(0))) }
            if type.count == 0 { spec.append(("suspend", .bool(true))) }
            spec.append(("template", .map([("metadata", .map([("labels", labels)])), ("spec", .map(pod))])))
            return .map([
                ("apiVersion", "batch/v1"), ("kind", "Job"),
                ("metadata", .map([("name", .string(name)), ("labels", labels)])),
                ("spec", .map(spec)),
            ])
        }
        return .map([
            ("apiVersion", "apps/v1"), ("kind", "Deployment"),
            ("metadata", .map([("name", .string(name)), ("labels", labels)])),
            ("spec", .map([
                ("replicas", .int(type.count)),
                ("selector", .map([("matchLabels", labels)])),
                ("template", .map([("metadata", .map([("labels", labels)])), ("spec", .map(pod))])),
            ])),
        ])
    }

    /// `text` lowercased with "_" as "-", checked as an RFC 1035 label (what
    /// Service names must be): a letter, then letters, digits and "-", at most 63.
    static func dnsLabel(_ text: String, source: String) throws(Diagnostic) -> String {
        let name = text.lowercased().replacing("_", with: "-")
        let scalars = name.unicodeScalars
        guard let first = scalars.first, first.isASCIILetter, scalars.last != "-", scalars.count <= 63,
              scalars.allSatisfy({ $0.isASCIILetter || ("0"..."9").contains($0) || $0 == "-" }) else {
            throw Diagnostic(source, "\"\(name)\" is not a valid Kubernetes name (a letter, then letters, digits and \"-\"; at most 63)")
        }
        return name
    }
}

