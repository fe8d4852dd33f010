import Foundation
import Testing
@testable import OpvangSync

func parseMapping(_ json: String, path: String = "test-mapping.json") throws(Mapping.Failure) -> Mapping {
    let root: JSONNode
    do { root = try JSONParser.parse(Array(json.utf8)) } catch { throw Mapping.Failure(path: path, key: nil, reason: "\(error)") }
    return try Mapping(root: root, path: path)
}

/// The smallest mapping that names every required entity and field.
let minimalEntities = """
    "location": {"file": "l.csv", "fields": {"code": "C", "name": "N"}},
    "group": {"file": "g.csv", "fields": {"code": "C", "locationCode": "L", "name": "N", "careType": "T"}},
    "child": {"file": "k.csv", "fields": {"number": "N", "firstName": "F", "lastName": "L", "birthDate": "B"}},
    "parent": {"file": "o.csv", "fields": {"number": "N", "lastName": "L"}},
    "relation": {"file": "r.csv", "fields": {"childNumber": "K", "parentNumber": "O", "role": "R"}},
    "placement": {"file": "p.csv", "fields": {"number": "N", "childNumber": "K", "groupCode": "G", "careType": "T",
                  "contractType": "C", "startDate": "S"}}
    """

@Suite struct MappingTests {
    @Test func theShippedMappingFilesEqualTheEmbeddedOnes() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for builtIn in BuiltInMapping.all {
            let file = try String(contentsOf: root.appendingPathComponent(builtIn.path), encoding: .utf8)
            #expect(file == builtIn.text, "\(builtIn.path) differs from the embedded copy in BuiltInMapping.swift")
            let mapping = try builtIn.mapping()
            #expect(mapping.entities.count == EntityKind.allCases.count)
        }
    }

    @Test func theDefaultMappingDescribesSpecSection2() throws {
        let mapping = try BuiltInMapping.flexkidsCSV.mapping()
        #expect(mapping.delimiter == UInt8(ascii: ";"))
        #expect(mapping.encoding == .auto)
        #expect(mapping.datePattern.parse("03-02-2025") == Day(year: 2025, month: 2, day: 3))
        #expect(mapping.entities[.child]?.name == "kinderen.csv")
        #expect(mapping.translate("Dagopvang", in: .careType) == "KDV")
        #expect(mapping.translate("kdv", in: .careType) == "KDV")
        #expect(mapping.translate("40 weken", in: .contractType) == "Schoolweken")
        #expect(mapping.translate("XYZ", in: .careType) == nil)
    }

    @Test func anUnknownTopLevelKeyIsNamed() {
        let error = #expect(throws: Mapping.Failure.self) { try parseMapping(#"{"entities": {}, "delimitor": ";"}"#) }
        #expect(error?.key == "delimitor")
        #expect(error?.path == "test-mapping.json")
    }

    @Test func anUnmappedRequiredFieldIsNamed() {
        let json = "{\"entities\": {\(minimalEntities.replacingOccurrences(of: ", \"birthDate\": \"B\"", with: ""))}}"
        let error = #expect(throws: Mapping.Failure.self) { try parseMapping(json) }
        #expect(error?.key == "entities.child.fields.birthDate")
    }

    @Test func anUnknownFieldIsNamed() {
        let json = "{\"entities\": {\(minimalEntities.replacingOccurrences(of: "\"lastName\": \"L\"}", with: "\"lastName\": \"L\", \"shoeSize\": \"S\"}"))}}"
        let error = #expect(throws: Mapping.Failure.self) { try parseMapping(json) }
        #expect(error?.key == "entities.parent.fields.shoeSize")
    }

    @Test func aCodeTranslatedToAnUnknownCanonicalCodeIsNamed() {
        let json = "{\"entities\": {\(minimalEntities)}, \"codes\": {\"careType\": {\"Dagopvang\": \"DAY\"}}}"
        let error = #expect(throws: Mapping.Failure.self) { try parseMapping(json) }
        #expect(error?.key == "codes.careType.Dagopvang")
    }

    @Test func aBadDateFormatOrDelimiterIsNamed() {
        #expect(throws: Mapping.Failure.self) { try parseMapping("{\"dateFormat\": \"dd.mm\", \"entities\": {\(minimalEntities)}}") }
        let error = #expect(throws: Mapping.Failure.self) { try parseMapping("{\"delimiter\": \";;\", \"entities\": {\(minimalEntities)}}") }
        #expect(error?.key == "delimiter")
    }

    @Test func aBSNFieldInAMappingIsDroppedWithAWarning() throws {
        let json = "{\"entities\": {\(minimalEntities.replacingOccurrences(of: "\"birthDate\": \"B\"", with: "\"birthDate\": \"B\", \"bsn\": \"BSN\""))}}"
        let mapping = try parseMapping(json)
        #expect(mapping.warnings.map(\.code) == ["bsn-in-mapping"])
        #expect(mapping.entities[.child]?.columns.contains("BSN") == false)
    }
}
