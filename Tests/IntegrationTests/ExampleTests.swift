import Glibc
import Foundation
import Testing

@Suite struct ExampleTests {
    @Test func procfileExampleRuns() throws {
        let example = repositoryRoot + "/Procfile.example"
        let types = try String(contentsOfFile: example, encoding: .utf8)
            .split(separator: "\n")
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
            .compactMap { $0.split(separator: ":").first.map(String.init) }
        #expect(types.count >= 2)
        let project = try Project()
        let swiftman = try project.swiftman(["start", "-f", example, "--no-color", "--no-timestamp"])
        for type in types {
            try swiftman.waitFor("a line from \(type).1") { !messages(from: "\(type).1", in: $0).isEmpty }
        }
        swiftman.signal(SIGINT)
        #expect(try swiftman.wait() == 0)
        project.expectNothingLeft()
    }
}
