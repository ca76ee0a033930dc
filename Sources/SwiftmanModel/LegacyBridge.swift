// TEMPORARY (issue 16): what lets Supervisor.swift and FormationRuntime.swift,
// being rewritten, compile and behave as before while they still speak in
// strings. Delete this whole file once
// - Supervisor.snapshot() builds `InstanceState` values (not "waiting for …" strings), and
// - the throw sites of a type or instance the Procfile does not have use
//   `ControlFailure.unknownTarget(…)`, and the runtime replies `.error(failure)`
//   (not `.error(failure.description)`).
// Whatever still needs it then fails to compile, which is the point.

extension ControlReply {
    /// A refusal given as its message only: the kind is recovered from the
    /// wording, as the CLI used to do before kinds crossed the socket.
    public static func error(_ message: String) -> ControlReply {
        .error(ControlFailure(message, kind: message.hasPrefix("unknown process type") ? .badTarget : .refused))
    }
}

extension InstanceState {
    /// Parses a state as Supervisor.snapshot() still words it.
    public init?(legacy text: String) {
        if text.hasPrefix("waiting for ") {
            let list = text.dropFirst("waiting for ".count)
            self = .waiting(for: list.isEmpty ? [] : list.split(separator: ",").map { String($0.drop { $0 == " " }) })
            return
        }
        guard let state = InstanceState.simple.first(where: { $0.description == text }) else { return nil }
        self = state
    }
}

extension InstanceStatus {
    /// A row whose state is given as Supervisor.snapshot() still words it.
    public init(name: String, pid: Int32?, state: String, uptime: Int64, restarts: Int, port: Int,
                requestedRestarts: Int = 0, exitCode: Int32? = nil, processes: Int = 0) {
        guard let typed = InstanceState(legacy: state) else { preconditionFailure("unknown instance state \"\(state)\"") }
        self.init(name: name, pid: pid, state: typed, uptime: uptime, restarts: restarts, port: port,
                  requestedRestarts: requestedRestarts, exitCode: exitCode, processes: processes)
    }
}
