import { signToken } from "../../src/auth.ts";
import { insertUser } from "../../src/db/schools.ts";
import { DEFAULT_SECTION_LABELS } from "../../src/iep/templates.ts";
import { TEST_JWT_SECRET, type TestStack } from "../helpers/stack.ts";

/** The document the page test adds through the form. */
export const ADDED_DOC = { title: "Speech screening", body: "Articulation screening: produces /r/ correctly in 60% of words at the conversation level." };

export const CANCEL = /* GraphQL */ `mutation WebTestCancel($id: ID!) { cancelGeneration(id: $id) { __typename } }`;

const CREATE_TEMPLATE = /* GraphQL */ `mutation WebTestTemplate($input: CreateIepTemplateInput!) {
  createIepTemplate(input: $input) { __typename ... on IepTemplateSuccess { template { id } } ... on Error { message } } }`;

/** A token of a new ADMIN of the stack's school. */
export async function schoolAdminToken(stack: TestStack): Promise<string> {
  const { schoolId } = stack.tenant;
  const admin = await insertUser(stack.runtime.pool, { schoolId, email: `admin-${crypto.randomUUID()}@example.org`, name: "Admin", role: "ADMIN" });
  return signToken({ userId: admin.id, schoolId, role: "ADMIN" }, TEST_JWT_SECRET);
}

/** How many times the audit log says a generation was VIEWED. */
export async function viewsOf(stack: TestStack, generationId: string, adminToken: string): Promise<number> {
  const result = await stack.gql(`query WebTestViews { auditLog(first: 100, filter: { actions: [VIEWED] }) { edges { node { resourceId } } } }`, {}, adminToken);
  return (result.data.auditLog.edges as { node: { resourceId: string } }[]).filter(({ node }) => node.resourceId === generationId).length;
}

/** An extra (state-specific) item the test template adds to the services section. */
export const EXTRA_ITEM = { key: "languageAccess", label: "Language access plan", section: "SERVICES", description: "How the family gets IEP documents and meetings in their language" };

/**
 * A template of the stack's school (made by a new ADMIN of it): §300.320 order, some labels
 * changed, and EXTRA_ITEM. Returns its id.
 */
export async function createSchoolTemplate(stack: TestStack, name: string, labels: Partial<typeof DEFAULT_SECTION_LABELS>): Promise<string> {
  const token = await schoolAdminToken(stack);
  const sections = Object.entries({ ...DEFAULT_SECTION_LABELS, ...labels }).map(([kind, label]) => ({ kind, label }));
  const result = await stack.gql(CREATE_TEMPLATE, { input: { name, sections, extraItems: [EXTRA_ITEM] } }, token);
  const id = result.data?.createIepTemplate?.template?.id as string | undefined;
  if (!id) throw new Error(`createIepTemplate failed: ${JSON.stringify(result)}`);
  return id;
}

/**
 * Whether `after` (the page's draft text once the stream ended) is `before` (its text when the
 * socket was cut) followed by what the full stream sent next up to a gap (text streamed while the
 * socket was down is lost), then the stream's end: nothing repeated, nothing out of order.
 */
export function resumedWithoutRepeats(full: string, before: string, after: string): boolean {
  if (!after.startsWith(before) || !full.startsWith(before) || after.length > full.length) return false;
  const rest = after.slice(before.length);
  const expected = full.slice(before.length);
  let common = 0;
  while (common < rest.length && rest[common] === expected[common]) common += 1;
  return expected.endsWith(rest.slice(common));
}
