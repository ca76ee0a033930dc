/// Aligned text columns, in time linear in the size of the table (`check`
/// lists 100,000 types in well under a second): the one column aligner of
/// `check`, `ps`, the disposability report and `help`.
public enum TextTable {
    /// Each row on its own line after `indent`, its first `padded` cells
    /// padded to their column's widest cell (in characters), cells joined by
    /// two spaces; the rest of a row is not padded, nor is its last cell.
    /// Every line ends in "\n".
    public static func render(_ rows: [[String]], indent: String = "", padded: Int) -> String {
        lines(rows, indent: indent, padded: padded).map { $0 + "\n" }.joined()
    }

    /// The same lines, without their newlines; by default every column but the last is padded.
    public static func lines(_ rows: [[String]], indent: String = "", padded: Int? = nil) -> [String] {
        let padded = padded ?? rows.map(\.count).max() ?? 0
        var widths = [Int](repeating: 0, count: padded)
        var counts: [[Int]] = []
        counts.reserveCapacity(rows.count)
        for row in rows {
            let rowCounts = row.prefix(padded).map(\.count)
            for (column, count) in rowCounts.enumerated() { widths[column] = max(widths[column], count) }
            counts.append(rowCounts)
        }
        var out: [String] = []
        out.reserveCapacity(rows.count)
        for (row, rowCounts) in zip(rows, counts) {
            var line = indent
            for (column, cell) in row.enumerated() {
                if column > 0 { line += "  " }
                line += cell
                if column < padded && column < row.count - 1 {
                    line += String(repeating: " ", count: widths[column] - rowCounts[column])
                }
            }
            out.append(line)
        }
        return out
    }
}
