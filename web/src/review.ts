import type { Client } from "@urql/core";
import { errorMessage } from "./client.ts";

/*
 * The review API (editIepSection, submitIepForReview, approveIep, printUrl, section provenance).
 * Plain strings, sent only when the server has these fields (capabilities.ts).
 */

export interface SectionReview {
  id: string;
  kind: string;
  label: string;
  missingCitations?: string[];
  provenance: {
    source: "AI" | "PERSON";
    model: string | null;
    promptVersion: string | null;
    editedAt: string | null;
    editedBy: { name: string } | null;
    changedPaths: string[];
  };
}

export interface IepReview {
  id: string;
  status: string;
  printUrl: string;
  submittedAt: string | null;
  submittedBy: { name: string } | null;
  approvedAt: string | null;
  approvedBy: { name: string } | null;
  sections?: SectionReview[];
}

const REVIEW_FIELDS = "id status printUrl submittedAt submittedBy { name } approvedAt approvedBy { name }";
const SECTION_FIELDS = "sections { id kind label missingCitations provenance { source model promptVersion editedAt editedBy { name } changedPaths } }";

/** The review state of an IEP (and its sections' provenance when the server has it). */
export async function readReview(client: Client, id: string, withSections: boolean): Promise<IepReview | undefined> {
  const query = `query WebIepReview($id: ID!) { iep(id: $id) { ${REVIEW_FIELDS} ${withSections ? SECTION_FIELDS : ""} } }`;
  const { data } = await client.query<{ iep: IepReview | null }>(query, { id }).toPromise();
  return data?.iep ?? undefined;
}

/** The outcome of a review mutation: the IEP it left (maybe a new version), or what went wrong. */
export type ReviewOutcome =
  | { ok: true; iepId: string }
  | { ok: false; message: string; fieldErrors?: { path: string[]; message: string }[] };

interface Payload {
  __typename: string;
  message?: string;
  fieldErrors?: { path: string[]; message: string }[];
  iep?: { id: string };
}

const ERRORS = "... on ValidationError { message fieldErrors { path message } } ... on Error { message }";
const MUTATIONS = {
  edit: `mutation WebEditSection($input: EditIepSectionInput!) {
    payload: editIepSection(input: $input) { __typename ... on EditIepSectionSuccess { iep { id } } ${ERRORS} } }`,
  submit: `mutation WebSubmitForReview($id: ID!) {
    payload: submitIepForReview(id: $id) { __typename ... on IepReviewSuccess { iep { id } } ... on Error { message } } }`,
  approve: `mutation WebApprove($id: ID!) {
    payload: approveIep(id: $id) { __typename ... on IepReviewSuccess { iep { id } } ... on Error { message } } }`,
};

async function run(client: Client, mutation: string, variables: Record<string, unknown>): Promise<ReviewOutcome> {
  const { data, error } = await client.mutation<{ payload: Payload }>(mutation, variables).toPromise();
  const payload = data?.payload;
  if (payload?.iep) return { ok: true, iepId: payload.iep.id };
  if (payload?.message) return { ok: false, message: payload.message, fieldErrors: payload.fieldErrors };
  return { ok: false, message: error ? errorMessage(error) : "The server did not say what happened." };
}

/** Replaces a section's content (FINAL IEPs: the edit starts a new DRAFT version, whose id comes back). */
export function editSection(client: Client, iepId: string, section: string, content: unknown): Promise<ReviewOutcome> {
  return run(client, MUTATIONS.edit, { input: { iepId, section, content } });
}

export function submitForReview(client: Client, id: string): Promise<ReviewOutcome> {
  return run(client, MUTATIONS.submit, { id });
}

export function approve(client: Client, id: string): Promise<ReviewOutcome> {
  return run(client, MUTATIONS.approve, { id });
}
