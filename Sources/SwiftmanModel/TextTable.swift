/// Aligned text columns, in time linear in the size of the table (`check`
/// lists 100,000 types in well under a second).
public enum TextTable {
    /// Each row on its own line after `indent`, its first `padded` cells
    /// padded to their column's widest cell (in characters), cells joined by
    /// two spaces; the rest of a row is not padded. Every line ends in "\n".
    public static func render(_ rows: [[String]], indent: String = "", padded: Int) -> String {
        var widths = [Int](repeating: 0, count: padded)
        var counts: [[Int]] = []
        counts.reserveCapacity(rows.count)
        for row in rows {
            let rowCounts = row.prefix(padded).map(\.count)
            for (column, count) in rowCounts.enumerated() { widths[column] = max(widths[column], count) }
            counts.append(rowCounts)
        }
        var out = ""
        for (row, rowCounts) in zip(rows, counts) {
            out += indent
            for (column, cell) in row.enumerated() {
                if column > 0 { out += "  " }
                out += cell
                if column < padded && column < row.count - 1 {
                    out += String(repeating: " ", count: widths[column] - rowCounts[column])
                }
            }
            out += "\n"
        }
        return out
    }
}
