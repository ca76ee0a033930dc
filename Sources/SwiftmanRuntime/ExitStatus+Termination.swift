import SwiftmanModel
import SwiftmanPlatform

extension ExitStatus {
    /// A child's end as the platform decoded it (`Children.reapOne`), in the
    /// model's terms.
    init(_ termination: Termination) {
        switch termination {
        case .exited(let code): self = .exited(code)
        case .signaled(let number): self = .signaled(Signal(number))
        }
    }
}
