import Testing
@testable import SwiftmanModel

/// The `--watch` globs and the gitignore rules, as tables.
@Suite struct GlobTests {
    static let cases: [(pattern: String, path: String, matches: Bool)] = [
        ("*.py", "app.py", true),
        ("*.py", "lib/db.py", false),          // anchored at the top: one segment
        ("*.py", ".hidden.py", true),
        ("app.?y", "app.py", true),
        ("app.?y", "app.y", false),
        ("**/*.py", "app.py", true),           // `**/` is zero or more directories
        ("**/*.py", "lib/db.py", true),
        ("**/*.py", "a/b/c/d.py", true),
        ("**/*.py", "a/b/c/d.pyc", false),
        ("lib/**/*.py", "lib/db.py", true),
        ("lib/**/*.py", "lib/x/y/db.py", true),
        ("lib/**/*.py", "app/lib/db.py", false),
        ("lib/**", "lib/db.py", true),
        ("lib/**", "lib", false),              // a trailing `**` is what is inside
        ("lib/**", "lib/a/b", true),
        ("src/*.[ch]", "src/main.c", true),
        ("src/*.[ch]", "src/main.o", false),
        ("[!a]*", "app", false),
        ("[!a]*", "bin", true),
        ("[a-c]x", "bx", true),
        ("[a-c]x", "dx", false),
        ("[]]x", "]x", true),
        ("[x", "[x", true),                    // unclosed: a plain `[`
        ("\\*.py", "*.py", true),
        ("\\*.py", "a.py", false),
        ("a*b*c", "aXXbYYc", true),
        ("a*b*c", "aXXbYY", false),
        ("*", "", false),
        ("**", "anything/at/all", true),
    ]

    @Test(arguments: cases) func globs(_ row: (pattern: String, path: String, matches: Bool)) {
        #expect(Glob(row.pattern).matches(Glob.split(row.path)[...]) == row.matches, "\(row.pattern) vs \(row.path)")
    }

    static let inside: [(pattern: String, directory: String, could: Bool)] = [
        ("src/*.py", "src", true),
        ("src/*.py", "lib", false),
        ("src/*.py", "src/deep", false),       // `*.py` is a file in src, not in src/deep
        ("src/*", "src/deep/er", true),        // src/* matches src/deep: recursive
        ("**/*.py", "any/where", true),
        ("lib/**/x", "lib/a/b", true),
        ("lib/**/x", "app", false),
        ("a/b/c", "a", true),
        ("a/b/c", "a/x", false),
    ]

    @Test(arguments: inside) func directoriesWorthWatching(_ row: (pattern: String, directory: String, could: Bool)) {
        #expect(Glob(row.pattern).couldMatch(inside: Glob.split(row.directory)[...]) == row.could, "\(row.pattern) in \(row.directory)")
    }
}

@Suite struct GitignoreTests {
    /// One `.gitignore`, many paths: (path, is a directory, ignored).
    static let gitignore = """
        # comments and blank lines are nothing

        *.log
        !keep.log
        /build
        tmp/
        docs/*.html
        !docs/index.html
        node_modules/
        **/cache/**
        vendor/
        !vendor/mine.py
        trailing.txt   \("")
        \\#literal
        \\!bang
        """

    static let cases: [(path: String, directory: Bool, ignored: Bool)] = [
        ("server.log", false, true),
        ("logs/deep/server.log", false, true),  // no slash: any depth
        ("keep.log", false, false),             // negation re-includes
        ("sub/keep.log", false, false),
        ("build", true, true),                  // anchored
        ("build/out.js", false, true),          // inside an ignored directory
        ("src/build", true, false),             // anchored: only at the top
        ("tmp", true, true),                    // directory-only
        ("tmp", false, false),                  // a file named tmp is not
        ("a/tmp/x.py", false, true),            // tmp/ at any depth
        ("docs/page.html", false, true),
        ("docs/index.html", false, false),
        ("docs/sub/page.html", false, false),   // `*` stops at `/`
        ("node_modules/x/index.js", false, true),
        ("a/cache/b/c.txt", false, true),
        ("cache/x", false, true),
        ("vendor/mine.py", false, true),        // a parent directory is ignored: no re-include
        ("trailing.txt", false, true),          // trailing blanks dropped
        ("#literal", false, true),
        ("!bang", false, true),
        ("app.py", false, false),
        ("lib/db.py", false, false),
    ]

    @Test(arguments: cases) func gitRules(_ row: (path: String, directory: Bool, ignored: Bool)) {
        let rules = IgnoreRules(gitignore: GitignoreTests.gitignore)
        #expect(rules.isIgnored(row.path, isDirectory: row.directory) == row.ignored, "\(row.path)")
    }

    @Test func parsesFlags() {
        let rule = IgnoreRule(line: "!/a/b/")!
        #expect(rule.negated && rule.directoryOnly && rule.anchored)
        #expect(rule.glob.description == "a/b")
        #expect(IgnoreRule(line: "   ") == nil)
        #expect(IgnoreRule(line: "# x") == nil)
        #expect(IgnoreRule(line: "/") == nil)
        #expect(IgnoreRule(line: "a.py\r")!.glob.description == "a.py")
    }

    @Test(arguments: [".git/HEAD", ".git/objects/ab/cd", "app.py.swp", ".app.py.swp", "app.py~", ".#app.py", "4913", "lib/4913", "#app.py#"])
    func editorsAndGitAreAlwaysIgnored(_ path: String) {
        #expect(IgnoreRules.builtIn.isIgnored(path, isDirectory: false))
    }
}

@Suite struct WatchMatcherTests {
    let matcher = WatchMatcher(
        watches: [(type: "web", patterns: ["*.py", "templates"]),
                  (type: "worker", patterns: ["**/*.py"]),
                  (type: "assets", patterns: [])],
        ignores: IgnoreRules(gitignore: "build/\n*.log\n"))

    static let cases: [(path: String, types: [String])] = [
        ("app.py", ["web", "worker", "assets"]),
        ("lib/db.py", ["worker", "assets"]),
        ("templates/index.html", ["web", "assets"]),  // a directory is recursive
        ("templates/a/b.html", ["web", "assets"]),
        ("README.md", ["assets"]),                    // no pattern: the whole directory
        ("build/app.py", []),                         // an ignore rule wins
        ("web.log", []),
        (".git/index", []),
        ("app.py.swp", []),
    ]

    @Test(arguments: cases) func typesOfAChange(_ row: (path: String, types: [String])) {
        #expect(matcher.types(changed: row.path) == row.types, "\(row.path)")
    }

    @Test func directoriesNeedingAWatch() {
        let narrow = WatchMatcher(watches: [(type: "web", patterns: ["src/*.py", "./templates/"])], ignores: IgnoreRules())
        #expect(narrow.shouldWatch(directory: ""))
        #expect(narrow.shouldWatch(directory: "src"))
        #expect(narrow.shouldWatch(directory: "templates/partials"))
        #expect(!narrow.shouldWatch(directory: "lib"))
        #expect(!narrow.shouldWatch(directory: ".git"))
        #expect(!matcher.shouldWatch(directory: "build"))
        #expect(matcher.shouldWatch(directory: "lib"))
    }

    @Test func normalizesAndRejects() {
        #expect(WatchMatcher.normalize("./lib/") == "lib")
        #expect(WatchMatcher.normalize(".") == "**")
        #expect(WatchMatcher.problem(with: "/etc") != nil)
        #expect(WatchMatcher.problem(with: "../x/*.py") != nil)
        #expect(WatchMatcher.problem(with: "lib/*.py") == nil)
    }
}
