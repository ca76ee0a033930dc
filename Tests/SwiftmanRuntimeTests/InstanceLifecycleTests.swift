import Glibc
import Testing
@testable import SwiftmanModel
@testable import SwiftmanPlatform
@testable import SwiftmanRuntime

/// The runtime's instance record: one lifecycle, moved forward only by
/// ChildTable, with real processes.
@Suite(.serialized) struct InstanceLifecycleTests {
    final class Fixture {
        let queue = OutputQueue()
        let framer: LineFramer
        let output: ChildOutput
        let table: ChildTable
        let environment = CStringArray(["PATH=/usr/bin:/bin"])

        init() {
            framer = LineFramer(queue: queue, style: OutputStyle(color: false, timestamps: false))
            output = ChildOutput(framer: framer)
            table = ChildTable(spawner: Spawner(root: "/", environment: environment), output: output)
        }

        func spawn(_ command: String, slot: Int = 0) throws -> RunningChild {
            let label = framer.addLabel(name: "web.\(slot + 1)", typeIndex: 0, stream: "stdout")
            let spec = InstanceSpec(type: "web", typeIndex: 0, number: slot + 1, port: 5000, command: command)
            let pid = try table.spawn(spec, slot: slot, labels: [label], tty: false).get()
            return try #require(table[pid])
        }

        /// Reaps until `pid` has exited (it exits at once), without busy failure.
        func reap(_ pid: Int32) -> SwiftmanModel.ExitStatus? {
            for _ in 0..<500 {
                if let exit = table.reap().exits.first(where: { $0.pid == pid }) { return exit.status }
                usleep(10_000)
            }
            return nil
        }

        var relayed: String { String(decoding: queue.contents, as: UTF8.self) }
    }

    @Test func anInstanceGoesRunningLeaderGoneDrainingEnded() throws {
        let f = Fixture()
        let child = try f.spawn("echo last words; exit 3")
        #expect(child.stage == .running)
        #expect(f.table.running(slot: 0) === child)
        #expect(child.inputDescriptor != nil, "its stdin pipe is open while it runs")
        let status = try #require(f.reap(child.pid))
        #expect(status == .exited(3))

        f.table.leaderReaped(child, status: status)
        #expect(child.stage == .leaderGone(.exited(3), told: false))
        #expect(f.table.running(slot: 0) == nil, "no input goes to an instance whose leader is gone")
        #expect(child.inputDescriptor == nil)
        #expect(f.table.tellLeaderGone(child), "the supervisor hears it once")
        #expect(!f.table.tellLeaderGone(child))

        let fd = try #require(child.outputs.first)
        #expect(f.table.owner(of: fd) === child)
        #expect(f.table.groupEmptied(child), "nothing is owed: it can end at once")
        #expect(child.stage == .draining(.exited(3)))
        #expect(f.relayed.contains("last words"), "its last line was relayed before its end: \(f.relayed)")

        #expect(f.table.end(child) == .exited(3))
        #expect(child.stage == .ended(.exited(3)))
        #expect(f.table[child.pid] == nil && f.table.owner(of: fd) == nil && f.table.count == 0)
    }

    @Test func stagesOnlyMoveForward() throws {
        let f = Fixture()
        let child = try f.spawn("exit 0")
        #expect(!f.table.groupEmptied(child), "a running leader's group is not emptied")
        #expect(!f.table.tellLeaderGone(child))
        let status = try #require(f.reap(child.pid))
        f.table.leaderReaped(child, status: status)
        _ = f.table.groupEmptied(child)
        f.table.leaderReaped(child, status: .exited(9))
        #expect(child.stage == .draining(.exited(0)), "a second reap does not move it back")
        _ = f.table.end(child)
    }
}
