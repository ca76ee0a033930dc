import Foundation
import Testing
@testable import SwiftmanModel
@testable import SwiftmanRuntime
@testable import SwiftmanPlatform

@Suite struct YAMLTests {
    /// Strings that a YAML 1.1 or 1.2 reader would turn into something else, or
    /// that would break the document, unless quoted.
    static let tricky = [
        "", " ", "yes", "No", "ON", "off", "y", "n", "true", "False", "null", "NULL", "~", "5000", "-1", "+1", "1_000",
        "3.14", "1e3", ".5", ".inf", "-.inf", ".NaN", "0x1F", "0o17", "017", "0b101", "1:20", "2024-01-01",
        "2024-01-01T10:00:00Z", "=", "<<", "a: b", "a:b", "key:", "a #b", "#c", "*alias", "&anchor", "!tag", "|", ">",
        "'", "\"", "%x", "@x", "`x`", "- x", "-", "? x", ": x", "[a]", "{a: 1}", "a, b", " lead", "trail ", "tab\there",
        "two\nlines", "trailing newline\n", "cr\rlf", "bell\u{7}", "del\u{7F}", "nel\u{85}", "ls\u{2028}", "bom\u{FEFF}",
        "back\\slash", "quote \" inside", "été", "日本語", "emoji 🚀", "\u{A0}nbsp", "/bin/sh -c 'echo $PORT'",
    ]

    @Test(arguments: [
        ("web", "web"), ("/bin/sh", "/bin/sh"), ("a b", "a b"), ("web_1.x-y", "web_1.x-y"), ("été", "\"été\""),
        ("", "\"\""), ("yes", "\"yes\""), ("Off", "\"Off\""), ("5000", "\"5000\""), ("-c", "\"-c\""), ("a: b", "\"a: b\""),
        ("a #b", "\"a #b\""), ("*x", "\"*x\""), ("trail ", "\"trail \""), ("x\ny", #""x\ny""#), ("t\tq\"\\", #""t\tq\"\\""#),
        ("\u{7}\u{85}\u{2028}", #""\u0007\u0085\u2028""#), ("naïve 🚀", "naïve 🚀"),
    ])
    func scalarsArePlainOnlyWhenUnambiguous(_ text: String, _ expected: String) {
        #expect(YAML.scalar(text) == expected)
    }

    @Test(.enabled(if: Checkers.pyYAML, "python3 with PyYAML is not installed (pip install pyyaml)"))
    func trickyStringsReadBackUnchangedAsValuesKeysAndListItems() throws {
        let map = YAMLValue.map(Self.tricky.enumerated().map { ("k\($0.offset)", .string($0.element)) })
        let keys = YAMLValue.map(Self.tricky.enumerated().map { ($0.element, .int($0.offset)) })
        let list = YAMLValue.list(Self.tricky.map { .string($0) })
        let docs = try loadYAML([map, keys, list].map(\.document).joined(separator: "---\n"))
        #expect(docs == [
            .object(Dictionary(uniqueKeysWithValues: Self.tricky.enumerated().map { ("k\($0.offset)", .string($0.element)) })),
            .object(Dictionary(uniqueKeysWithValues: Self.tricky.enumerated().map { ($0.element, .int($0.offset)) })),
            .array(Self.tricky.map { .string($0) }),
        ])
    }

    @Test func blockLayoutNestsMapsAndListsWithTwoSpaces() {
        let value: YAMLValue = .map([
            ("name", "demo"),
            ("count", .int(2)),
            ("enabled", .bool(false)),
            ("empty", .list([])),
            ("none", .map([])),
            ("items", .list([.map([("a", .int(1)), ("b", .list(["x"]))]), .list(["p", "q"]), "w"])),
            ("nested", .map([("deep", .map([("k", "v")]))])),
        ])
        #expect(value.document == """
            name: demo
            count: 2
            enabled: false
            empty: []
            none: {}
            items:
              - a: 1
                b:
                  - x
              - - p
                - q
              - w
            nested:
              deep:
                k: v

            """)
    }

    @Test(.enabled(if: Checkers.pyYAML, "python3 with PyYAML is not installed (pip install pyyaml)"))
    func nestedLayoutReadsBackAsTheSameStructure() throws {
        let value: YAMLValue = .map([
            ("items", .list([.map([("a", .int(1)), ("b", .list(["x", .bool(true)]))]), .list(["y", .list([])]), .map([])])),
            ("nested", .map([("deep", .map([("k", "on")]))])),
        ])
        #expect(try loadYAML(value.document) == [[
            "items": [["a": 1, "b": ["x", true]], ["y", []], [:]],
            "nested": ["deep": ["k": "on"]],
        ]])
    }
}
