/// Where an instance's lines go besides the terminal and the history
/// (`start --log-dir`): the framer hands it the same runs of whole lines the
/// history gets, as the instance printed them (no prefix, no colour).
public protocol LineSink: AnyObject {
    /// A label of the framer for instance `name`; returns the id `write` gets
    /// (the labels of one instance, stdout and stderr, may share one).
    func addLabel(name: String) -> Int
    /// Whole lines, or one line that may lack its newline (a split piece, a
    /// flushed partial): the sink ends it with one.
    func write(label: Int, _ bytes: UnsafePointer<UInt8>, _ count: Int)
}
