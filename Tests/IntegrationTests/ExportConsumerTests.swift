// `swiftman export` checked by the real consumers: a real supervisord runs the
// exported one-shot once and starts the stages in priority order;
// kubernetes-validate --strict and systemd-analyze verify accept the files.
// `.ci/run` installs supervisor and kubernetes-validate from PyPI when missing.
import Glibc
import Foundation
import Testing

/// The full path of `name` on the PATH, or nil.
private func which(_ name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    return path.split(separator: ":").map { "\($0)/\(name)" }.first { access($0, X_OK) == 0 }
}

private let supervisord = which("supervisord")

@Suite(.serialized) struct ExportConsumerTests {
    /// migrate (exit check) runs once with exit 0 "expected", and is spawned
    /// before web, which comes after it (priority= by stage).
    @Test(.enabled(if: supervisord != nil, "supervisord is not installed (pip install supervisor; .ci/run does): skipped"))
    func aRealSupervisordRunsTheOneShotOnceAndStartsInPriorityOrder() throws {
        let project = try Project(procfile: """
            web: echo web >> runs; exec sleep 1000
            migrate: echo migrate >> runs
            """)
        let export = try project.run(["export", "supervisord", project.path("out"), "-f", project.path("Procfile"),
                                      "--app", "demo", "--ready", "migrate=exit", "--after", "web=migrate"])
        #expect(export.code == 0, "\(export.stderr)")
        try project.write("supervisord.conf", """
            [supervisord]
            nodaemon=true
            logfile=\(project.path("supervisord.log"))
            pidfile=\(project.path("supervisord.pid"))
            childlogdir=\(project.dir)
            [unix_http_server]
            file=\(project.path("supervisor.sock"))
            [rpcinterface:supervisor]
            supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
            [supervisorctl]
            serverurl=unix://\(project.path("supervisor.sock"))
            [include]
            files = \(project.path("out/demo.conf"))

            """)
        // In the foreground supervisord also logs to stdout, where the test reads it.
        let daemon = try project.swiftman(["-n", "-c", project.path("supervisord.conf")], executable: supervisord!)
        try daemon.waitFor("exited: demo-migrate-1 (exit status 0; expected)")
        // web leaves STARTING after startsecs (1 s): by then a migrate that
        // supervisord took for a failed start would have been spawned again.
        try daemon.waitFor("success: demo-web-1 entered RUNNING state")
        let log = daemon.stdout
        let spawns = log.split(separator: "\n").filter { $0.contains("spawned: ") }
        #expect(spawns.filter { $0.contains("'demo-migrate-1'") }.count == 1, "\(log)")
        let order = spawns.map { $0.contains("'demo-migrate-1'") ? "migrate" : "web" }
        #expect(order == ["migrate", "web"], "\(log)")
        #expect(!log.contains("not expected"), "\(log)")
        // (Spawned in one pass, the two may write in either order.)
        let runs = String(decoding: readAll(project.path("runs")) ?? [], as: UTF8.self).split(separator: "\n")
        #expect(runs.sorted() == ["migrate", "web"], "\(runs)")
        daemon.signal(SIGTERM)
        #expect(try daemon.wait() == 0)
        project.expectNothingLeft()
    }

    /// The CLI names the variables pointing at localhost on stderr (and exits 0).
    @Test func exportNamesLocalhostVariablesOnStderr() throws {
        let project = try Project(procfile: "web: exec sleep 1000\n")
        try project.write(".env", "DATABASE_URL=postgres://localhost:5432/app\nAPI=http://api\n")
        let result = try project.run(["export", "compose", project.path("out"), "-f", project.path("Procfile"),
                                      "-e", project.path(".env"), "--image", "img"])
        #expect(result.code == 0, "\(result.stderr)")
        #expect(result.stderr.contains("swiftman: export: DATABASE_URL points at localhost"), "\(result.stderr)")
        #expect(!result.stderr.contains("API"), "\(result.stderr)")
        let compose = String(decoding: readAll(project.path("out/compose.yaml")) ?? [], as: UTF8.self)
        #expect(compose.contains("# Pointing at localhost (each container's own): DATABASE_URL;"), "\(compose)")
        #expect(compose.contains("    stdin_open: true\n"), "\(compose)")
    }
}
