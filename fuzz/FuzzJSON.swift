// libFuzzer target: the JSON parser (fuzz/run.sh). A parsed document, written out again, must parse to
// the same values; every number must survive the integer reading without trapping.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let node = try? JSONParser.parse(bytes) else { return 0 }
    let written = write(node)
    guard let again = try? JSONParser.parse(Array(written.utf8)) else {
        preconditionFailure("a parsed document written out again does not parse")
    }
    precondition(write(again) == written, "a parsed document written out again parses differently")
    return 0
}

/// Compact JSON of `node`, positions left out; members in file order.
func write(_ node: JSONNode) -> String {
    switch node.value {
    case .null: return "null"
    case .bool(let flag): return flag ? "true" : "false"
    case .number(let literal):
        if let integer = JSONNumber.integerText(literal) {
            precondition(integer.utf8.allSatisfy { $0 == UInt8(ascii: "-") || (0x30...0x39).contains($0) }, "integer text")
        }
        _ = JSONNumber.integerText(literal, truncating: true)
        return literal
    case .string(let text): return quoted(text)
    case .array(let elements): return "[" + elements.map(write).joined(separator: ",") + "]"
    case .object(let members):
        precondition(Set(members.map(\.key)).count == members.count, "no key twice in one object")
        return "{" + members.map { quoted($0.key) + ":" + write($0.node) }.joined(separator: ",") + "}"
    }
}

func quoted(_ text: String) -> String {
    var result = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": result += "\\\""
        case "\\": result += "\\\\"
        case _ where scalar.value < 0x20:
            let hex = String(scalar.value, radix: 16)
            result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: result.unicodeScalars.append(scalar)
        }
    }
    return result + "\""
}
