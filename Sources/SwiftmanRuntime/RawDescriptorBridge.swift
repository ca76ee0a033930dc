import SwiftmanModel
import SwiftmanPlatform

// The raw (Int32) spellings FormationRuntime.swift and ChildTable.swift still
// use, until they move to the platform's types: each forwards to the typed
// call. Delete this file when they no longer need it (the compiler then
// names every call to convert). New code uses the typed calls.

extension ChildOutput {
    func open(_ fd: Int32, label: Int) { open(FileDescriptor(rawValue: fd), label: label) }
    @discardableResult
    func drain(_ fd: Int32) -> Bool { drain(FileDescriptor(rawValue: fd)) }
    func owes(_ fd: Int32) -> Bool { owes(FileDescriptor(rawValue: fd)) }
    func watchLines(fds: [Int32], pid: Int32, text: String) {
        watchLines(fds: fds.map(FileDescriptor.init(rawValue:)), pid: pid, text: text)
    }
    /// `onPipeClosed`.
    var onClosed: (_ fd: Int32) -> Void {
        get { { [onPipeClosed] in onPipeClosed(FileDescriptor(rawValue: $0)) } }
        set { onPipeClosed = { newValue($0.rawValue) } }
    }
    /// `onPipePaid`.
    var onPaid: (_ fd: Int32) -> Void {
        get { { [onPipePaid] in onPipePaid(FileDescriptor(rawValue: $0)) } }
        set { onPipePaid = { newValue($0.rawValue) } }
    }
}

extension AttachHub {
    func adopt(fd: Int32, slot: Int, pid: Int32, outputs: Set<Int32>, greeting: [UInt8], extra: [UInt8]) {
        adopt(fd: FileDescriptor(rawValue: fd), slot: slot, pid: pid,
              outputs: Set(outputs.map(FileDescriptor.init(rawValue:))), greeting: greeting, extra: extra)
    }
}

extension ControlServer {
    /// `onAttach`.
    var adopt: ((_ request: ControlRequest, _ fd: Int32, _ extra: [UInt8]) -> ControlReply?)? {
        get { onAttach.map { attach in { attach($0, FileDescriptor(rawValue: $1), $2) } } }
        set { onAttach = newValue.map { adopt in { adopt($0, $1.rawValue, $2) } } }
    }
}

extension ChildInput {
    convenience init(target: @escaping (_ slot: Int) -> Int32?) {
        self.init(target: { (slot: Int) -> FileDescriptor? in target(slot).map(FileDescriptor.init(rawValue:)) })
    }
}

extension OutputSink {
    /// `onWriteFailed`.
    var onWriteError: (_ code: Int32, _ now: Int64) -> Void {
        get { { [onWriteFailed] in onWriteFailed(Errno($0), $1) } }
        set { onWriteFailed = { newValue($0.rawValue, $1) } }
    }
}

extension InputSource {
    /// `onFinished`.
    var onEnd: (_ error: Int32?) -> Void {
        get { { [onFinished] in onFinished($0.map(Errno.init(rawValue:))) } }
        set { onFinished = { newValue($0?.rawValue) } }
    }
}

extension EventLoop {
    func run(wake: (Int64) -> Void, finished: (Int64) -> Bool) -> Int32? {
        run(wake: wake, until: finished)?.rawValue
    }
}

extension SpawnedProcess {
    var pid: Int32 { id.rawValue }
    var outputs: [(fd: Int32, stream: Int)] { output.map { ($0.fd.rawValue, $0.stream) } }
    /// -1: none.
    var stdin: Int32 { input?.rawValue ?? -1 }
    var ptyMaster: Int32? { terminal?.rawValue }
}

extension Spawner {
    /// `strings` stay the caller's (freed after every spawner is gone).
    init(root: String, environment strings: [UnsafeMutablePointer<CChar>?]) {
        self.init(root: root, environment: CStringArray(borrowing: strings))
    }
}

extension ProcessTable {
    static func groupIsAlive(_ pgid: Int32) -> Bool { ProcessGroup(pgid).isAlive }
    @discardableResult
    static func becomeSubreaper() -> Bool { Children.becomeSubreaper() }
}
