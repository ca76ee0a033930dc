import Testing
@testable import SwiftmanModel

/// The busy-port warning as an event: one sentence, and typed JSON fields.
@Suite struct BusyPortTests {
    @Test func theHolderIsNamedWithPidAndCommand() {
        let event = LifecycleEvent.portInUse(instance: "web.1", port: 5000,
                                             by: [PortHolder(pid: 4242, command: "ruby bin/rails server")])
        #expect(event.text == "web.1: port 5000 is already in use by pid 4242 (ruby bin/rails server)")
        #expect(event.instance == "web.1")
        #expect(event.name == "port_in_use")
    }

    @Test func aHolderThatCannotBeReadIsAnotherUsers() {
        let event = LifecycleEvent.portInUse(instance: "web.1", port: 5000, by: [])
        #expect(event.text == "web.1: port 5000 is already in use by a process of another user")
    }

    @Test func severalHoldersAreListed() {
        let event = LifecycleEvent.portInUse(instance: "api.2", port: 5101,
                                             by: [PortHolder(pid: 1, command: "a"), PortHolder(pid: 2, command: "b \"c\"")])
        #expect(event.text == "api.2: port 5101 is already in use by pid 1 (a), pid 2 (b \"c\")")
        let fields = event.fields
        #expect(fields.first { $0.key == "port" }?.value == .number(5101))
        #expect(fields.first { $0.key == "holders" }?.value
            == .raw("[{\"pid\":1,\"command\":\"a\"},{\"pid\":2,\"command\":\"b \\\"c\\\"\"}]"))
    }
}
