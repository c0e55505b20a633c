import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./process.ts";
import type { GraphQLResponse, TestStack } from "./stack.ts";

/** The committed evidence fixtures (scripts/make-evidence-fixtures.ts regenerates them). */
export function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(ROOT, "test/fixtures/evidence", name)));
}

export const ADD_EVIDENCE_FILE = /* GraphQL */ `
  mutation AddEvidenceFile($input: AddEvidenceInput!) {
    addEvidence(input: $input) {
      __typename
      ... on AddEvidenceSuccess { evidence { id status source { filename mediaType byteSize sha256 downloadUrl } } }
      ... on ValidationError { message fieldErrors { path message } }
      ... on NotFoundError { message }
    }
  }
`;

export interface UploadInput {
  studentId: string;
  kind?: string;
  title: string;
  bytes: Uint8Array;
  filename: string;
  /** What the client claims; iepgen sniffs the bytes instead. */
  contentType?: string;
}

/**
 * `addEvidence` with a file, as the GraphQL multipart request spec sends it (operations, map, then
 * the file part), through Node's own fetch and FormData.
 */
export async function uploadEvidence(stack: TestStack, input: UploadInput, token = stack.tenant.token): Promise<GraphQLResponse> {
  const { bytes, filename, contentType, ...fields } = input;
  const form = new FormData();
  form.append("operations", JSON.stringify({
    query: ADD_EVIDENCE_FILE,
    variables: { input: { kind: "EVALUATION", ...fields, file: null } },
  }));
  form.append("map", JSON.stringify({ 0: ["variables.input.file"] }));
  form.append("0", new Blob([new Uint8Array(bytes)], { type: contentType ?? "application/octet-stream" }), filename);
  const response = await fetch(stack.graphqlUrl, { method: "POST", headers: { authorization: `Bearer ${token}` }, body: form });
  return { status: response.status, ...((await response.json()) as Omit<GraphQLResponse, "status">) };
}

/** Uploads and returns the new evidence id, failing loudly when the upload is refused. */
export async function uploadEvidenceId(stack: TestStack, input: UploadInput, token?: string): Promise<string> {
  const result = await uploadEvidence(stack, input, token);
  const payload = result.data?.addEvidence;
  if (payload?.__typename !== "AddEvidenceSuccess") throw new Error(`upload refused: ${JSON.stringify(result)}`);
  return payload.evidence.id;
}
