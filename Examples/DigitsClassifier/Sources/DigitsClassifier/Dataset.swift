// The digits data set: 8×8 images of handwritten digits, read from the CSV shipped in Data/.

import Foundation

/// Labelled examples as Xent wants them: a row-major feature matrix and one `Int32` label a row.
struct Dataset {
    static let featureCount = 64  // 8 × 8 pixels
    static let classCount = 10    // the digits 0–9

    /// `count × featureCount` pixel intensities, scaled from 0…16 to 0…1, row-major.
    var features: [Float]
    /// One class in `0 ..< classCount` per example (`Int32`: the narrowest label type Xent takes).
    var labels: [Int32]

    var count: Int { labels.count }
}

/// Why the CSV could not be read.
enum DatasetError: Error, CustomStringConvertible {
    case unreadable(path: String)
    case malformed(path: String, line: Int, reason: String)

    var description: String {
        switch self {
        case .unreadable(let path):
            "cannot read \(path) (pass --data PATH)"
        case .malformed(let path, let line, let reason):
            "\(path):\(line): \(reason)"
        }
    }
}

extension Dataset {
    /// `Data/digits.csv` in this package, found from this source file's path so that `swift run`
    /// works from any directory. An app would ship the file as a resource instead.
    static var defaultPath: String {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // Sources/DigitsClassifier
            .deletingLastPathComponent()  // Sources
            .deletingLastPathComponent()  // the package
            .appendingPathComponent("Data/digits.csv").path
    }

    /// Reads scikit-learn's `digits.csv`: one example a line, 64 pixel counts (0…16), then the
    /// label (0…9), comma-separated, no header.
    init(contentsOfCSV path: String) throws(DatasetError) {
        guard let bytes = FileManager.default.contents(atPath: path) else {
            throw .unreadable(path: path)
        }
        features = []
        labels = []
        let lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
        features.reserveCapacity(lines.count * Self.featureCount)
        labels.reserveCapacity(lines.count)
        for (index, line) in lines.enumerated() {
            let fields = line.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
                .map { Int(String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespaces)) }
            guard fields.count == Self.featureCount + 1 else {
                throw .malformed(path: path, line: index + 1, reason: "\(fields.count) fields, expected 65")
            }
            for field in fields.dropLast() {
                guard let pixel = field, (0...16).contains(pixel) else {
                    throw .malformed(path: path, line: index + 1, reason: "a pixel outside 0…16")
                }
                features.append(Float(pixel) / 16)
            }
            guard let label = fields.last!, (0..<Self.classCount).contains(label) else {
                throw .malformed(path: path, line: index + 1, reason: "a label outside 0…9")
            }
            labels.append(Int32(label))
        }
    }

    /// The examples at `indices`, in that order.
    func subset(_ indices: [Int]) -> Dataset {
        var features = [Float]()
        features.reserveCapacity(indices.count * Self.featureCount)
        for i in indices {
            features += self.features[i * Self.featureCount ..< (i + 1) * Self.featureCount]
        }
        return Dataset(features: features, labels: indices.map { labels[$0] })
    }
}
