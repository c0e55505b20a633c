import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { GraphQLInputObjectType, GraphQLObjectType, parse, validate } from "graphql";
import { printSortedSchema, schema } from "../src/schema/index.ts";
import { GRAPHIQL_DEFAULT_QUERY } from "../src/yoga.ts";

function fieldTypes(typeName: string): Record<string, string> {
  const type = schema.getType(typeName);
  if (!(type instanceof GraphQLObjectType || type instanceof GraphQLInputObjectType)) throw new Error(`${typeName} missing`);
  return Object.fromEntries(Object.values(type.getFields()).map((field) => [field.name, String(field.type)]));
}

describe("schema.graphql", () => {
  it("matches the schema Pothos builds (run `npm run schema:print` after changing src/schema)", async () => {
    const checkedIn = await readFile(new URL("../schema.graphql", import.meta.url), "utf8");
    expect(checkedIn).toBe(printSortedSchema());
  });

  it("keeps the fixed contract names clients depend on", () => {
    const sdl = printSortedSchema();
    for (const fragment of [
      "createStudent(input: CreateStudentInput!): CreateStudentPayload!",
      "addEvidence(input: AddEvidenceInput!): AddEvidencePayload!",
      "union AddEvidencePayload = AddEvidenceSuccess | NotFoundError | ValidationError",
      "union CreateStudentPayload = CreateStudentSuccess | ValidationError",
      "student(id: ID!): Student",
      "students(after: String, first: Int): StudentConnection!",
      "searchEvidence(first: Int = 8, query: String!, studentId: ID!): [EvidenceMatch!]!",
      "interface Error {\n  message: String!\n}",
      "generateIep(async: Boolean = true, input: GenerateIepInput!): GenerateIepPayload!",
      "regenerateIepSection(async: Boolean = true, input: RegenerateIepSectionInput!): GenerateIepPayload!",
      "generateIeps(input: GenerateIepsInput!): GenerateIepsPayload!",
      "cancelGeneration(id: ID!): CancelGenerationPayload!",
      "retryGeneration(id: ID!): GenerateIepPayload!",
      "assignStudent(input: StudentAssignmentInput!): AssignStudentPayload!",
      "unassignStudent(input: StudentAssignmentInput!): UnassignStudentPayload!",
      "union AssignStudentPayload = AssignStudentSuccess | NotFoundError | ValidationError",
      "caseload(userId: ID!): [Student!]!",
      "generation(id: ID!): Generation",
      "generations(after: String, filter: GenerationFilter, first: Int): GenerationConnection!",
      "iep(id: ID!): Iep",
      "generationEvents(afterSeq: Int = 0, id: ID!): GenerationEvent!",
      "batchProgress(id: ID!): BatchProgress!",
      "queueStats: QueueStats!",
      "cleanupGenerations(olderThanDays: Int!): Int!",
      "union GenerateIepPayload = GenerateIepSuccess | InvalidStateError | NotFoundError | RateLimitedError | ValidationError",
      "enum GenerationStatus {",
    ]) {
      expect(sdl).toContain(fragment);
    }
    expect(fieldTypes("EvidenceMatch")).toEqual({ chunk: "EvidenceChunk!", score: "Float!" });
    expect(fieldTypes("AddEvidenceInput")).toEqual({ studentId: "ID!", kind: "EvidenceKind!", title: "String!", body: "String", file: "File" });
    expect(fieldTypes("Evidence")).toMatchObject({ source: "EvidenceSource", pageCount: "Int" });
    expect(fieldTypes("EvidenceSource")).toEqual({
      filename: "String!", mediaType: "String!", byteSize: "Int!", sha256: "String!", downloadUrl: "String!",
    });
    expect(fieldTypes("EvidenceChunk")).toMatchObject({ page: "Int" });
    expect(sdl).toContain("scalar File");
    expect(fieldTypes("CreateStudentSuccess")).toEqual({ student: "Student!" });
    expect(fieldTypes("AddEvidenceSuccess")).toEqual({ evidence: "Evidence!" });
    expect(fieldTypes("GenerateIepInput")).toEqual({
      studentId: "ID!", academicYear: "String", instructions: "String", idempotencyKey: "String", priority: "Int",
      templateId: "ID", meetingDate: "LocalDate", effectiveDate: "LocalDate", annualReviewDate: "LocalDate", evidenceKinds: "[EvidenceKind!]",
    });
    expect(fieldTypes("Generation")).toMatchObject({
      id: "ID!", kind: "GenerationKind!", status: "GenerationStatus!", progress: "Float!", stage: "GenerationStage!", message: "String",
      attempts: "Int!", error: "String", iep: "Iep", student: "Student!", createdAt: "DateTime!", startedAt: "DateTime",
      finishedAt: "DateTime", events: "[GenerationEvent!]!",
    });
    expect(fieldTypes("GenerationEvent")).toEqual({
      seq: "Int!", status: "GenerationStatus!", progress: "Float!", stage: "GenerationStage!", message: "String", textDelta: "String",
      at: "DateTime!", generation: "Generation!",
    });
    expect(fieldTypes("Iep")).toMatchObject({ id: "ID!", student: "Student!", status: "IepStatus!", version: "Int!",
      sections: "[IepSection!]!", generation: "Generation" });
    expect(fieldTypes("IepSection")).toEqual({ id: "ID!", kind: "IepSectionKind!", label: "String!", content: "JSON!", citations: "[Citation!]!",
      provenance: "SectionProvenance!", missingCitations: "[ID!]!" });
    expect(fieldTypes("Citation")).toMatchObject({ chunkId: "ID!", chunk: "EvidenceChunk", missing: "Boolean!" });
    expect(fieldTypes("SectionProvenance")).toMatchObject({ source: "SectionSource!", model: "String", generation: "Generation", promptVersion: "String",
      citedEvidence: "[Evidence!]!", editedBy: "User", editedAt: "DateTime", changedPaths: "[String!]!" });
    expect(fieldTypes("Iep")).toMatchObject({ submittedAt: "DateTime", submittedBy: "User", approvedAt: "DateTime", approvedBy: "User",
      versions: "[Iep!]!", diff: "[IepSectionDiff!]!", printUrl: "String!" });
    expect(fieldTypes("IepSectionDiff")).toEqual({ kind: "IepSectionKind!", change: "SectionChange!", changedPaths: "[String!]!", before: "JSON", after: "JSON" });
    expect(fieldTypes("EditIepSectionInput")).toMatchObject({ iepId: "ID!", section: "IepSectionKind!", content: "JSON!" });
  });

  it("keeps GraphiQL's guided default document valid against the schema", () => {
    const document = parse(GRAPHIQL_DEFAULT_QUERY);
    expect(validate(schema, document)).toEqual([]);
    const names = document.definitions.map((d) => ("name" in d ? d.name?.value : undefined));
    expect(names).toEqual(["Me", "Students", "Generate", "Watch", "Iep"]);
  });
});
