import SwiftmanModel
import SwiftmanPlatform

/// Sees the raw bytes of an instance's output as they are read (an attached
/// terminal). Must not block.
protocol OutputTap: AnyObject {
    func output(_ bytes: UnsafeRawBufferPointer)
}

/// The read ends of every child's output (pipes, pty masters), framed into
/// prefixed lines. A pipe stays here until every process holding it has
/// closed it, which may be after its instance has ended (a grandchild that
/// left the group keeps its lines relayed).
final class ChildOutput: EventSource {
    let framer: LineFramer
    private var queue: OutputQueue { framer.queue }
    /// Open read ends → their label.
    private var pipes: [FileDescriptor: Int] = [:]
    /// Bytes a pipe still held when its instance ended: they are relayed
    /// before the instance's exit is reported.
    private var owed: [FileDescriptor: Int] = [:]
    /// Pipes with attached terminals: only these pay for the tap.
    private var taps: [FileDescriptor: [OutputTap]] = [:]
    /// The last bytes each pipe carried, for a terminal that attaches
    /// (`AttachReplay`), and the order pipes last carried something.
    private var recent: [FileDescriptor: ByteRing] = [:]
    private var lastRead: [FileDescriptor: Int] = [:]
    private var reads = 0
    /// Output is being discarded (stdout is gone): read, but do not frame.
    var discarding = false
    /// A pipe reached EOF (and is closed), or paid what it owed.
    var onPipeClosed: (_ fd: FileDescriptor) -> Void = { _ in }
    var onPipePaid: (_ fd: FileDescriptor) -> Void = { _ in }

    /// `line:` readiness checks by pipe: only instances not yet ready have
    /// one, so the relay path pays one emptiness test otherwise.
    private var lineWatches: [FileDescriptor: LineWatch] = [:]
    /// A watched instance (by leader pid) printed its line.
    var onLineMatch: (_ pid: Int32, _ now: Int64) -> Void = { _, _ in }

    private let readBuffer = UnsafeMutablePointer<UInt8>.allocate(capacity: ChildOutput.readSize)
    private let readSpace: UnsafeMutableRawBufferPointer
    private static let readSize = 1 << 16

    init(framer: LineFramer) {
        self.framer = framer
        readSpace = UnsafeMutableRawBufferPointer(start: readBuffer, count: ChildOutput.readSize)
    }
    deinit { readBuffer.deallocate() }

    var isEmpty: Bool { pipes.isEmpty }

    func open(_ fd: FileDescriptor, label: Int) {
        pipes[fd] = label
        recent[fd] = ByteRing(capacity: AttachReplay.keptBytes)
        framer.open(stream: Int(fd.rawValue), label: label)
    }

    /// The end of what `fds` carried lately (`AttachReplay`): the pipe that
    /// was read last comes last, so its partial line ends the replay.
    func recentOutput(of fds: Set<FileDescriptor>) -> [UInt8] {
        fds.filter { recent[$0] != nil }.sorted { lastRead[$0, default: 0] < lastRead[$1, default: 0] }
            .flatMap { fd in AttachReplay.tail(recent[fd]!.contents, cut: recent[fd]!.dropped > 0) }
    }

    /// `tap` sees what `fd` carries from now on, until the pipe closes or
    /// the tap is removed.
    func addTap(_ tap: OutputTap, to fd: FileDescriptor) {
        guard pipes[fd] != nil else { return }
        taps[fd, default: []].append(tap)
    }

    func removeTap(_ tap: OutputTap) {
        for fd in Array(taps.keys) {
            taps[fd]!.removeAll { $0 === tap }
            if taps[fd]!.isEmpty { taps[fd] = nil }
        }
    }

    func register(in set: inout PollSet, now: Int64) {
        // Backpressure: while the queue is full the children are not read, so
        // they block in write(2) instead of us buffering without limit.
        guard !queue.isFull else { return }
        // Pipes passed over last time come first (the loop handles in this
        // order), so a flooding child cannot starve the others.
        if passedOver.isEmpty {
            for fd in pipes.keys { set.watch(fd, events: .readable) }
            return
        }
        for fd in passedOver { set.watch(fd, events: .readable) }
        for fd in pipes.keys where !passedOverSet.contains(fd) { set.watch(fd, events: .readable) }
    }

    /// Ready pipes left unread because the queue filled first, oldest first.
    private var passedOver: [FileDescriptor] = []
    private var passedOverSet: Set<FileDescriptor> = []

    private func passOver(_ fd: FileDescriptor) {
        if passedOverSet.insert(fd).inserted { passedOver.append(fd) }
    }

    private func served(_ fd: FileDescriptor) {
        if passedOverSet.remove(fd) != nil { passedOver.removeAll { $0 == fd } }
    }

    func handle(fd: FileDescriptor, events: PollEvents, now: Int64) {
        guard pipes[fd] != nil else { return }
        // Many pipes can be ready in one wake: once the queue is full the
        // rest wait for the next, first in line (else each would add a read's
        // worth past the high water: a thousand flooding instances, ~90 MB).
        guard !queue.isFull else { return passOver(fd) }
        served(fd)
        do throws(Errno) {
            let n = try fd.read(into: readSpace)
            if n > 0 { ingest(fd, n, now: now) } else { closePipe(fd) }
        } catch {
            if error != .wouldBlock { closePipe(fd) }
        }
    }

    // A backed-up stdout makes a child look quiet: its partial line waits.
    var nextDeadline: Int64? { queue.isFull ? nil : framer.nextPartialDeadline }

    func due(now: Int64) {
        if !queue.isFull { framer.flushDuePartials(now: now) }
    }

    /// Watches the instance led by `pid` (its pipes `fds`) for `text`.
    func watchLines(fds: [FileDescriptor], pid: Int32, text: String) {
        // One watch per pipe: stdout and stderr (JSON) each keep their own
        // carry-over, so a match never spans the two streams.
        for fd in fds { lineWatches[fd] = LineWatch(pid: pid, needle: Array(text.utf8)) }
    }

    func unwatchLines(pid: Int32) {
        guard !lineWatches.isEmpty else { return }
        lineWatches = lineWatches.filter { $0.value.pid != pid }
    }

    @inline(__always)
    private func ingest(_ fd: FileDescriptor, _ n: Int, now: Int64) {
        if !discarding { framer.ingest(stream: Int(fd.rawValue), readBuffer, n, now: now) }
        if let ring = recent[fd] {
            ring.append(UnsafeRawBufferPointer(start: readBuffer, count: n))
            reads += 1
            lastRead[fd] = reads
        }
        if !lineWatches.isEmpty, let watch = lineWatches[fd], watch.scan(readBuffer, n) {
            unwatchLines(pid: watch.pid)
            onLineMatch(watch.pid, now)
        }
        if !taps.isEmpty, let list = taps[fd] {
            let bytes = UnsafeRawBufferPointer(start: readBuffer, count: n)
            for tap in list { tap.output(bytes) }
        }
        if !owed.isEmpty, let left = owed[fd] {
            if left - n > 0 {
                owed[fd] = left - n
            } else {
                owed[fd] = nil
                framer.flushPartial(stream: Int(fd.rawValue))
                onPipePaid(fd)
            }
        }
    }

    private func closePipe(_ fd: FileDescriptor) {
        served(fd)
        lineWatches[fd] = nil
        framer.close(stream: Int(fd.rawValue))
        pipes[fd] = nil
        recent[fd] = nil
        lastRead[fd] = nil
        owed[fd] = nil
        taps[fd] = nil
        fd.close()
        onPipeClosed(fd)
    }

    /// Reads what a pipe holds right now, until EAGAIN, EOF or a full output
    /// queue (the loop reads the rest once stdout has caught up). Never blocks.
    /// Returns whether the pipe is still open.
    @discardableResult
    func drain(_ fd: FileDescriptor) -> Bool {
        while pipes[fd] != nil && !queue.isFull {
            do throws(Errno) {
                let n = try fd.read(into: readSpace)
                if n > 0 { ingest(fd, n, now: monotonicNow()) } else { closePipe(fd) }
            } catch {
                if error == .wouldBlock { return true }
                closePipe(fd)
            }
        }
        return pipes[fd] != nil
    }

    /// After a drain at an instance's end: whether the pipe still holds bytes
    /// to relay first (remembered, and `onPaid` called once relayed). A pipe
    /// with nothing left has its last unterminated line flushed.
    func owes(_ fd: FileDescriptor) -> Bool {
        guard pipes[fd] != nil else { return false }
        let n = fd.bytesReadable
        if n > 0 {
            owed[fd] = n
            return true
        }
        framer.flushPartial(stream: Int(fd.rawValue))
        return false
    }

    /// At exit: everything still in the pipes goes out, `flush` waiting for
    /// stdout as needed. Writers that outlived us are not waited for.
    func drainAll(flush: () -> Bool) {
        for fd in Array(pipes.keys) {
            while drain(fd) {
                guard queue.isFull, flush() else { break }
            }
            if pipes[fd] != nil { closePipe(fd) }
        }
    }
}

/// A `line:` check: the text anywhere in the stream (a line holds it, as the
/// text has no newline), found across read boundaries by keeping the last
/// few bytes of the previous read.
final class LineWatch {
    let pid: Int32
    let needle: [UInt8]
    private var carry: [UInt8] = []

    init(pid: Int32, needle: [UInt8]) {
        self.pid = pid
        self.needle = needle
    }

    func scan(_ base: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        var haystack = carry
        haystack.append(contentsOf: UnsafeBufferPointer(start: base, count: count))
        let found = haystack.withUnsafeBytes { hay in needle.withUnsafeBytes { ByteSearch.contains(hay, $0) } }
        carry = Array(haystack.suffix(max(0, needle.count - 1)))
        return found
    }
}
