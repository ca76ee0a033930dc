// The model names signals by their Linux numbers without importing Glibc;
// here they are checked against Glibc's own constants.
import Glibc
import Testing
import SwiftmanModel
import SwiftmanPlatform

@Suite struct SignalNumberTests {
    /// Every constant of `Signal`, with Glibc's number for it.
    static let constants: [(Signal, Int32)] = [
        (.hangup, SIGHUP), (.interrupt, SIGINT), (.quit, SIGQUIT), (.illegal, SIGILL),
        (.trap, SIGTRAP), (.abort, SIGABRT), (.bus, SIGBUS), (.floatingPoint, SIGFPE),
        (.kill, SIGKILL), (.user1, SIGUSR1), (.segmentation, SIGSEGV), (.user2, SIGUSR2),
        (.pipe, SIGPIPE), (.alarm, SIGALRM), (.terminate, SIGTERM), (.stackFault, SIGSTKFLT),
        (.child, SIGCHLD), (.continue, SIGCONT), (.stop, SIGSTOP), (.terminalStop, SIGTSTP),
        (.terminalInput, SIGTTIN), (.terminalOutput, SIGTTOU), (.urgent, SIGURG), (.cpuLimit, SIGXCPU),
        (.fileSizeLimit, SIGXFSZ), (.virtualAlarm, SIGVTALRM), (.profiling, SIGPROF), (.windowChange, SIGWINCH),
        (.io, SIGIO), (.power, SIGPWR), (.badSystemCall, SIGSYS),
    ]

    @Test func everyConstantIsGlibcs() {
        for (signal, number) in Self.constants {
            #expect(signal.rawValue == number, "\(signal) is \(signal.rawValue), Glibc says \(number)")
        }
        // 1…31, each once: no constant missed or doubled.
        #expect(Set(Self.constants.map(\.0.rawValue)) == Set(1...31))
    }

    /// The names users write (`TERM`) mean Glibc's numbers.
    @Test func everyNameIsGlibcs() {
        let glibc: [String: Int32] = [
            "HUP": SIGHUP, "INT": SIGINT, "QUIT": SIGQUIT, "KILL": SIGKILL, "USR1": SIGUSR1, "USR2": SIGUSR2,
            "TERM": SIGTERM, "PIPE": SIGPIPE, "ALRM": SIGALRM, "CHLD": SIGCHLD, "CONT": SIGCONT, "STOP": SIGSTOP,
            "TSTP": SIGTSTP, "WINCH": SIGWINCH, "ABRT": SIGABRT, "SEGV": SIGSEGV, "ILL": SIGILL, "FPE": SIGFPE,
            "BUS": SIGBUS, "TRAP": SIGTRAP, "TTIN": SIGTTIN, "TTOU": SIGTTOU, "XCPU": SIGXCPU, "XFSZ": SIGXFSZ,
            "SYS": SIGSYS, "URG": SIGURG, "VTALRM": SIGVTALRM, "PROF": SIGPROF, "PWR": SIGPWR, "IO": SIGIO, "STKFLT": SIGSTKFLT,
        ]
        for (name, signal) in Signals.table {
            #expect(glibc[name] == signal.rawValue, "SIG\(name)")
        }
        #expect(Signals.table.count == glibc.count)
    }
}

extension SignalNumberTests {
    /// The table's real-time range is the one glibc leaves to programs.
    @Test func realTimeSignalsAreGlibcs() {
        #expect(SignalTable.realTime == SignalSetup.realTime)
    }
}
