import Glibc
import Testing
@testable import SwiftmanModel
@testable import SwiftmanRuntime
@testable import SwiftmanPlatform

/// A framer with two labels, no colour or time unless asked.
private func makeFramer(color: Bool = false, timestamps: Bool = false, lineLimit: Int = 16384)
    -> (LineFramer, web: Int, worker: Int) {
    let framer = LineFramer(queue: OutputQueue(), style: OutputStyle(color: color, timestamps: timestamps),
                            lineLimit: lineLimit, quietPeriod: 100, maxPartialAge: 1000)
    let web = framer.addLabel(name: "web.1", typeIndex: 0)
    let worker = framer.addLabel(name: "worker.1", typeIndex: 1)
    framer.open(stream: 10, label: web)
    framer.open(stream: 11, label: worker)
    return (framer, web, worker)
}

private func feed(_ framer: LineFramer, _ stream: Int, _ text: String, now: Int64 = 0) {
    feedBytes(framer, stream, Array(text.utf8), now: now)
}

private func feedBytes(_ framer: LineFramer, _ stream: Int, _ bytes: [UInt8], now: Int64 = 0) {
    bytes.withUnsafeBufferPointer { framer.ingest(stream: stream, $0.baseAddress!, $0.count, now: now) }
}

private func output(_ framer: LineFramer) -> String {
    String(decoding: framer.queue.contents, as: UTF8.self)
}

@Suite struct LineFramerTests {
    @Test func prefixesEveryLinePaddedToTheLongestName() {
        let (f, _, _) = makeFramer()
        feed(f, 10, "one\ntwo\n")
        feed(f, 11, "three\n")
        #expect(output(f) == "web.1    | one\nweb.1    | two\nworker.1 | three\n")
    }

    @Test func paddingIsAtLeastSystemWidth() {
        let framer = LineFramer(queue: OutputQueue(), style: OutputStyle(color: false, timestamps: false))
        framer.open(stream: 3, label: framer.addLabel(name: "a.1", typeIndex: 0))
        feed(framer, 3, "x\n")
        framer.event(.notice("hello"))
        #expect(output(framer) == "a.1    | x\nsystem | hello\n")
    }

    @Test func colourWrapsThePrefixByTypeIndex() {
        let (f, _, _) = makeFramer(color: true)
        feed(f, 10, "a\n")
        feed(f, 11, "b\n")
        f.event(.notice("s"))
        #expect(output(f) == "\u{1B}[36mweb.1    | \u{1B}[0ma\n\u{1B}[33mworker.1 | \u{1B}[0mb\n\u{1B}[1;37msystem   | \u{1B}[0ms\n")
    }

    @Test func timestampIsLocalHoursMinutesSeconds() {
        let (f, _, _) = makeFramer(timestamps: true)
        f.clock.update(toMillisecond: 0)
        let stamp = String(decoding: f.clock.hms, as: UTF8.self)
        feed(f, 10, "a\n")
        #expect(output(f) == "\(stamp) web.1    | a\n")
        #expect(stamp.count == 8 && stamp.split(separator: ":").count == 3)
    }

    @Test func partialLinesWaitForTheirNewline() {
        let (f, _, _) = makeFramer()
        feed(f, 10, "hel")
        feed(f, 11, "other\n")
        feed(f, 10, "lo\n")
        #expect(output(f) == "worker.1 | other\nweb.1    | hello\n", "never two children's bytes on one line")
    }

    @Test func quietPartialIsFlushedAtItsDeadline() {
        let (f, _, _) = makeFramer()
        feed(f, 10, "prompt> ", now: 1000)
        #expect(f.nextPartialDeadline == 1100)
        f.flushDuePartials(now: 1099)
        #expect(output(f).isEmpty)
        f.flushDuePartials(now: 1100)
        #expect(output(f) == "web.1    | prompt> \n")
        #expect(f.nextPartialDeadline == nil)
    }

    @Test func aTricklingPartialIsFlushedByMaximumAge() {
        let (f, _, _) = makeFramer()
        for t in stride(from: Int64(0), through: 950, by: 50) { feed(f, 10, ".", now: t) }
        #expect(f.nextPartialDeadline == 1000)
    }

    @Test func eofFlushesTheLastLineWithoutNewline() {
        let (f, _, _) = makeFramer()
        feed(f, 10, "last words")
        f.close(stream: 10)
        #expect(output(f) == "web.1    | last words\n")
    }

    @Test func longLinesAreSplitWithoutLosingBytes() {
        let (f, _, _) = makeFramer(lineLimit: 4)
        feed(f, 10, "abcdefghij\nxy\n")
        #expect(output(f) == "web.1    | abcd\nweb.1    | efgh\nweb.1    | ij\nweb.1    | xy\n")
    }

    @Test func longPartialIsSplitAsItGrows() {
        let (f, _, _) = makeFramer(lineLimit: 4)
        feed(f, 10, "abc")
        feed(f, 10, "defgh")
        #expect(output(f) == "web.1    | abcd\n", "full pieces go out, the rest waits")
        feed(f, 10, "\n")
        #expect(output(f) == "web.1    | abcd\nweb.1    | efgh\n")
    }

    @Test func longLinesAreSplitBetweenCharacters() {
        let (f, _, _) = makeFramer(lineLimit: 4)
        feed(f, 10, "aé€x\n")  // 1 + 2 + 3 + 1 bytes
        #expect(output(f) == "web.1    | aé\nweb.1    | €x\n")
    }

    @Test func tinyLimitsStillMakeProgress() {
        for limit in 1...3 {
            let (f, _, _) = makeFramer(lineLimit: limit)
            feedBytes(f, 10, [0x41, 0x80, 0x80, 0x80, 0x80, 0x0A])
            let pieces = f.queue.contents.split(separator: 10).map { Array($0.dropFirst("web.1    | ".utf8.count)) }
            #expect(Array(pieces.joined()) == [UInt8]([0x41, 0x80, 0x80, 0x80, 0x80]), "limit \(limit)")
        }
    }

    @Test func aLineOfExactlyTheLimitIsOneLine() {
        let (f, _, _) = makeFramer(lineLimit: 4)
        feed(f, 10, "abcd\n")
        feed(f, 10, "ab")
        feed(f, 10, "cd\n")
        #expect(output(f) == "web.1    | abcd\nweb.1    | abcd\n", "the newline does not count")
    }

    @Test func invalidUTF8PassesThroughUnchanged() {
        let (f, _, _) = makeFramer()
        let bytes: [UInt8] = [0xFF, 0xFE, 0x41, 0xC3, 0x28, 0x0A]
        feedBytes(f, 10, bytes)
        #expect(Array(f.queue.contents.suffix(6)) == bytes)
    }

    @Test func systemLinesNeverLandInsideAPartial() {
        let (f, _, _) = makeFramer()
        feed(f, 10, "half")
        f.event(.notice("web.1 exited with code 0"))
        f.close(stream: 10)
        #expect(output(f) == "system   | web.1 exited with code 0\nweb.1    | half\n")
    }

    @Test func aLongerNameRepadsEveryPrefix() {
        let (f, _, _) = makeFramer()
        _ = f.addLabel(name: "scheduler.10", typeIndex: 2)
        feed(f, 10, "a\n")
        #expect(output(f) == "web.1        | a\n")
    }
}

@Suite struct OutputQueueTests {
    @Test func writesEverythingToAPipe() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]) }
        let q = OutputQueue(highWater: 10)
        q.append("hello world")
        #expect(q.isFull)
        #expect(OutputSink.write(q, to: FileDescriptor(rawValue: fds[1])) == .drained)
        #expect(q.isEmpty)
        close(fds[1])
        var buf = [UInt8](repeating: 0, count: 64)
        let n = read(fds[0], &buf, 64)
        #expect(String(decoding: buf[0..<n], as: UTF8.self) == "hello world")
    }

    @Test func reportsAClosedReader() {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        close(fds[0])
        defer { close(fds[1]) }
        signal(SIGPIPE, SIG_IGN)
        let q = OutputQueue()
        q.append("x")
        #expect(OutputSink.write(q, to: FileDescriptor(rawValue: fds[1])) == .closed)
    }

    /// A queue that stays near full while bytes leave at the head and arrive
    /// at the tail (stdout's reader slower than the children) hands out every
    /// byte once, in order, across its chunks; reserved windows are
    /// contiguous whatever their size.
    @Test func aStandingBacklogComesOutInOrder() {
        let q = OutputQueue(highWater: 300_000)
        var expected: [UInt8] = []
        var written: [UInt8] = []
        var next: UInt8 = 0
        var state: UInt64 = 12345
        func random(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
        for round in 0..<400 {
            if !q.isFull {
                let n = [1, 17, 4000, 70_000, 200_000][random(5)]
                let window = q.window(atLeast: n)
                #expect(window.count >= n)
                for i in 0..<n { window[i] = next; expected.append(next); next &+= 1 }
                q.commit(n)
            }
            if round % 3 != 0 {
                var take = random(150_000)
                while take > 0 && !q.isEmpty {
                    let pending = q.pending
                    #expect(pending.count > 0, "a non-empty queue has bytes at its head")
                    let n = min(take, pending.count)
                    written.append(contentsOf: pending[0..<n])
                    q.consume(n)
                    take -= n
                }
            }
            #expect(q.count == expected.count - written.count)
        }
        #expect(written + q.contents == expected)
        q.discard()
        #expect(q.isEmpty && q.pending.count == 0)
    }

    @Test func growsPastItsInitialCapacity() {
        let q = OutputQueue()
        let chunk = [UInt8](repeating: 7, count: 100_000)
        q.append(chunk)
        q.append(chunk)
        #expect(q.count == 200_000)
        #expect(q.contents == chunk + chunk)
    }
}
