import SwiftmanModel
import SwiftmanPlatform

/// `--watch`: one inotify descriptor in the event loop (no thread, no
/// polling), a watch on every directory under the root that a pattern could
/// match and no ignore rule excludes. Directories created (or moved in) later
/// are watched as they appear; deleted (or moved away) ones are dropped. Each
/// batch of events becomes, per watched type, the changed paths: the
/// supervisor waits for the quiet period and restarts the type.
final class WatchSource: EventSource {
    private let inotify: Inotify
    private let root: String
    let matcher: WatchMatcher
    /// Each watch's directory, relative to the root ("" is the root).
    private var directories: [Inotify.Watch: String] = [:]
    private var watches: [String: Inotify.Watch] = [:]
    /// A test's stand-in for a low `fs.inotify.max_user_watches`: adding a
    /// watch past this many fails with ENOSPC.
    private let injectedLimit: Int?
    /// Per batch: the types and their changed paths, in the order seen.
    var onChange: (_ type: String, _ paths: [String], _ now: Int64) -> Void = { _, _, _ in }
    /// Something to say (a directory that could not be watched…).
    var onNote: (String) -> Void = { _ in }

    var watchCount: Int { watches.count }

    init(root: String, matcher: WatchMatcher, injectedLimit: Int? = nil) throws(Diagnostic) {
        self.root = root
        self.matcher = matcher
        self.injectedLimit = injectedLimit
        do throws(Errno) {
            inotify = try Inotify()
        } catch {
            throw Diagnostic("--watch", "cannot start inotify: \(error)")
        }
        let needed = WatchSource.directories(under: "", root: root, matcher: matcher)
        for directory in needed {
            do throws(Errno) {
                try addWatch(directory)
            } catch where error == .noSpace {
                let limit = injectedLimit ?? Inotify.maxUserWatches
                throw Diagnostic("--watch", "watching needs \(needed.count) directories, but fs.inotify.max_user_watches is "
                                 + "\(limit.map(String.init) ?? "lower") (minus what other programs watch): raise it "
                                 + "(sysctl fs.inotify.max_user_watches=\(max(needed.count * 2, 65536))) or narrow the patterns or --watch-ignore")
            } catch {
                // Gone already, or not readable: nothing to watch there.
                continue
            }
        }
    }

    /// Every directory under `start` (itself first) worth a watch, walked
    /// breadth first without following symbolic links.
    static func directories(under start: String, root: String, matcher: WatchMatcher) -> [String] {
        guard matcher.shouldWatch(directory: start) else { return [] }
        var found = [start]
        var next = 0
        while next < found.count {
            let directory = found[next]
            next += 1
            guard let entries = try? FileSystem.entries(of: absolute(directory, root: root)) else { continue }
            for entry in entries where entry.isDirectory {
                let path = directory.isEmpty ? entry.name : directory + "/" + entry.name
                if matcher.shouldWatch(directory: path) { found.append(path) }
            }
        }
        return found
    }

    /// The files under `start` (a directory that just appeared), for the
    /// changes made in it before its watch was in place.
    private func files(under start: String) -> [String] {
        var files: [String] = []
        var pending = [start]
        while let directory = pending.popLast(), files.count < 10_000 {
            guard let entries = try? FileSystem.entries(of: WatchSource.absolute(directory, root: root)) else { continue }
            for entry in entries {
                let path = directory + "/" + entry.name
                if entry.isDirectory { pending.append(path) } else { files.append(path) }
            }
        }
        return files
    }

    private static func absolute(_ relative: String, root: String) -> String {
        relative.isEmpty ? root : root + "/" + relative
    }

    private func addWatch(_ directory: String) throws(Errno) {
        if let injectedLimit, watches.count >= injectedLimit { throw Errno.noSpace }
        let watch = try inotify.add(directory: WatchSource.absolute(directory, root: root))
        // The same directory again (moved back): the kernel hands out the same watch.
        if let old = directories[watch], old != directory { watches[old] = nil }
        directories[watch] = directory
        watches[directory] = watch
    }

    /// Drops the watches of `directory` and everything under it.
    private func dropWatches(_ directory: String) {
        let prefix = directory + "/"
        for (path, watch) in watches where path == directory || path.hasPrefix(prefix) {
            inotify.remove(watch)
            watches[path] = nil
            directories[watch] = nil
        }
    }

    func register(in set: inout PollSet, now: Int64) {
        set.watch(inotify.fd, events: .readable)
    }

    func handle(fd: FileDescriptor, events: PollEvents, now: Int64) {
        let batch: [Inotify.Event]
        do throws(Errno) {
            batch = try inotify.read()
        } catch {
            onNote("--watch: cannot read inotify events: \(error)")
            return
        }
        var changed: [String: [String]] = [:]
        var order: [String] = []
        func note(_ path: String, isDirectory: Bool) {
            for type in matcher.types(changed: path, isDirectory: isDirectory) {
                if changed[type] == nil { order.append(type) }
                changed[type, default: []].append(path)
            }
        }
        for event in batch {
            if event.mask.contains(.overflow) {
                // Events were lost: every watched type may have changed.
                for type in matcher.types where changed[type] == nil {
                    order.append(type)
                    changed[type] = ["(events lost)"]
                }
                continue
            }
            guard let directory = directories[event.watch] else { continue }
            if event.mask.contains(.ignored) {
                directories[event.watch] = nil
                if watches[directory] == event.watch { watches[directory] = nil }
                continue
            }
            guard !event.name.isEmpty else { continue }
            let path = directory.isEmpty ? event.name : directory + "/" + event.name
            let isDirectory = event.mask.contains(.isDirectory)
            if isDirectory && !event.mask.isDisjoint(with: [.create, .movedTo]) {
                for added in WatchSource.directories(under: path, root: root, matcher: matcher) where watches[added] == nil {
                    do throws(Errno) { try addWatch(added) } catch {
                        onNote("--watch: cannot watch \(added): \(error)\(error == .noSpace ? " (fs.inotify.max_user_watches reached)" : "")")
                    }
                }
                for file in files(under: path) { note(file, isDirectory: false) }
            } else if isDirectory && !event.mask.isDisjoint(with: [.delete, .movedFrom]) {
                dropWatches(path)
            }
            note(path, isDirectory: isDirectory)
        }
        for type in order { onChange(type, changed[type]!, now) }
    }
}

/// What `--watch` would watch under a root now (for `check`): the
/// directories that need a watch and, per type, the files its patterns match.
public enum WatchTree {
    public static func scan(root: String, matcher: WatchMatcher) -> (directories: Int, files: [String: Int]) {
        let directories = WatchSource.directories(under: "", root: root, matcher: matcher)
        var files: [String: Int] = [:]
        for directory in directories {
            guard let entries = try? FileSystem.entries(of: directory.isEmpty ? root : root + "/" + directory) else { continue }
            for entry in entries where !entry.isDirectory {
                let path = directory.isEmpty ? entry.name : directory + "/" + entry.name
                for type in matcher.types(changed: path) { files[type, default: 0] += 1 }
            }
        }
        return (directories.count, files)
    }
}
