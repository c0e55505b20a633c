import type { Client } from "@urql/core";
import { graphql } from "./gql/index.ts";

/**
 * What the API offers beyond the base workflow, read from the schema itself: the page shows the
 * review and template controls only when the server has them (older servers keep working).
 */
export interface Capabilities {
  /** editIepSection, submitIepForReview, approveIep and Iep.printUrl. */
  review: boolean;
  /** IepSection.id/label/provenance. */
  sectionProvenance: boolean;
  /** Citation.missing. */
  citationMissing: boolean;
  /** iepTemplates and GenerateIepInput.templateId. */
  templates: boolean;
  /** GenerateIepInput.meetingDate/effectiveDate/annualReviewDate. */
  dates: boolean;
  /** GenerateIepInput.evidenceKinds. */
  evidenceKinds: boolean;
}

const WebCapabilities = graphql(`
  query WebCapabilities {
    query: __type(name: "Query") { fields { name } }
    mutation: __type(name: "Mutation") { fields { name } }
    iep: __type(name: "Iep") { fields { name } }
    section: __type(name: "IepSection") { fields { name } }
    citation: __type(name: "Citation") { fields { name } }
    generateInput: __type(name: "GenerateIepInput") { inputFields { name } }
  }
`);

/** Reads the capabilities (all false when the schema cannot be read). */
export async function readCapabilities(client: Client): Promise<Capabilities> {
  const { data } = await client.query(WebCapabilities, {}).toPromise();
  const names = (fields: readonly { name: string }[] | null | undefined) => new Set((fields ?? []).map((f) => f.name));
  const query = names(data?.query?.fields);
  const mutation = names(data?.mutation?.fields);
  const iep = names(data?.iep?.fields);
  const section = names(data?.section?.fields);
  const citation = names(data?.citation?.fields);
  const input = names(data?.generateInput?.inputFields);
  return {
    review: ["editIepSection", "submitIepForReview", "approveIep"].every((name) => mutation.has(name)) && iep.has("printUrl"),
    sectionProvenance: ["id", "label", "provenance"].every((name) => section.has(name)),
    citationMissing: citation.has("missing"),
    templates: query.has("iepTemplates") && input.has("templateId"),
    dates: ["meetingDate", "effectiveDate", "annualReviewDate"].every((name) => input.has(name)),
    evidenceKinds: input.has("evidenceKinds"),
  };
}
