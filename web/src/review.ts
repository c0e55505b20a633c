import type { Client } from "@urql/core";
import { errorMessage } from "./client.ts";
import { WebApprove, WebEditSection, WebSubmitForReview } from "./operations.ts";
import type { IepSectionKind } from "./gql/graphql.ts";

/** The outcome of a review mutation: the IEP it left (maybe a new version), or what went wrong. */
export type ReviewOutcome =
  | { ok: true; iepId: string }
  | { ok: false; message: string; fieldErrors?: { path: string[]; message: string }[] };

type Payload =
  | { __typename: string; iep?: { id: string }; message?: string; fieldErrors?: { path: string[]; message: string }[] }
  | undefined;

function outcome(payload: Payload, error: Parameters<typeof errorMessage>[0] | undefined): ReviewOutcome {
  if (payload?.iep) return { ok: true, iepId: payload.iep.id };
  if (payload?.message) return { ok: false, message: payload.message, fieldErrors: payload.fieldErrors };
  return { ok: false, message: error ? errorMessage(error) : "The server did not say what happened." };
}

/**
 * Replaces a section's content, made on `revision` (a change by someone else since is refused,
 * not overwritten). A FINAL IEP's edit starts a new DRAFT version, whose id comes back.
 */
export async function editSection(client: Client, iepId: string, revision: number, section: IepSectionKind, content: unknown): Promise<ReviewOutcome> {
  const { data, error } = await client.mutation(WebEditSection, { input: { iepId, section, content, expectedRevision: revision } }).toPromise();
  return outcome(data?.editIepSection, error);
}

export async function submitForReview(client: Client, id: string): Promise<ReviewOutcome> {
  const { data, error } = await client.mutation(WebSubmitForReview, { id }).toPromise();
  return outcome(data?.submitIepForReview, error);
}

export async function approve(client: Client, id: string): Promise<ReviewOutcome> {
  const { data, error } = await client.mutation(WebApprove, { id }).toPromise();
  return outcome(data?.approveIep, error);
}
