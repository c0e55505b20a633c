import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signToken } from "../src/auth.ts";
import { insertUser, type UserRole } from "../src/db/schools.ts";
import { asSchool } from "../src/db/tenant.ts";
import { IEP_SECTION_KINDS } from "../src/iep/content.ts";
import { DEFAULT_TEMPLATE, DEFAULT_TEMPLATE_ID, iepLayout, type TemplateVersion } from "../src/iep/templates.ts";
import { GENERATE_IEP, studentWithEvidence } from "./helpers/generation.ts";
import { startTestStack, TEST_JWT_SECRET, type Tenant, type TestStack } from "./helpers/stack.ts";

// Fragments, not interpolated field strings, so that codegen can read every document (npm run codegen).
const VERSION_FIELDS = /* GraphQL */ `fragment TemplatesVersionFields on IepTemplateVersion {
  id version sections { kind label } extraItems { key label description section } defaultInstructions }`;
const TEMPLATE_FIELDS = /* GraphQL */ `fragment TemplatesTemplateFields on IepTemplate {
  id name isDefault archivedAt latest { ...TemplatesVersionFields } versions { id version } }`;
const PAYLOAD = /* GraphQL */ `fragment TemplatesPayloadFields on IepTemplatePayload {
  __typename
  ... on IepTemplateSuccess { template { ...TemplatesTemplateFields } }
  ... on ValidationError { message fieldErrors { path message } }
  ... on NotFoundError { resourceType resourceId }
  ... on InvalidStateError { message currentState }
}`;

const TEMPLATES = /* GraphQL */ `
  query TemplatesList { iepTemplates { ...TemplatesTemplateFields } }
  ${TEMPLATE_FIELDS} ${VERSION_FIELDS}
`;
const TEMPLATE = /* GraphQL */ `
  query TemplatesOne($id: ID!) { iepTemplate(id: $id) { ...TemplatesTemplateFields } }
  ${TEMPLATE_FIELDS} ${VERSION_FIELDS}
`;
const CREATE = /* GraphQL */ `
  mutation TemplatesCreate($input: CreateIepTemplateInput!) { createIepTemplate(input: $input) { ...TemplatesPayloadFields } }
  ${PAYLOAD} ${TEMPLATE_FIELDS} ${VERSION_FIELDS}
`;
const UPDATE = /* GraphQL */ `
  mutation TemplatesUpdate($input: UpdateIepTemplateInput!) { updateIepTemplate(input: $input) { ...TemplatesPayloadFields } }
  ${PAYLOAD} ${TEMPLATE_FIELDS} ${VERSION_FIELDS}
`;
const ARCHIVE = /* GraphQL */ `
  mutation TemplatesArchive($id: ID!) { archiveIepTemplate(id: $id) { ...TemplatesPayloadFields } }
  ${PAYLOAD} ${TEMPLATE_FIELDS} ${VERSION_FIELDS}
`;
const IEP = /* GraphQL */ `
  query TemplatesIep($id: ID!) {
    iep(id: $id) { id version content meetingDate effectiveDate annualReviewDate template { ...TemplatesVersionFields template { id } } }
  }
  ${VERSION_FIELDS}
`;
const GENERATION = /* GraphQL */ `
  query TemplatesGeneration($id: ID!) {
    generation(id: $id) { id status error template { id version } meetingDate effectiveDate annualReviewDate iep { id } }
  }
`;
const REDRAFT = /* GraphQL */ `
  mutation TemplatesRedraft($input: RegenerateIepSectionInput!) {
    regenerateIepSection(input: $input, async: false) {
      __typename
      ... on GenerateIepSuccess { generation { id status error template { id } iep { id } } }
    }
  }
`;

/** A state's template: services first, relabelled sections, two extra items, default instructions. */
const STATE_TEMPLATE = {
  name: "Statewide IEP form",
  sections: [
    { kind: "SERVICES", label: "Section A: Services and supports" },
    { kind: "PRESENT_LEVELS", label: "Section B: Present levels (PLAAFP)" },
    ...IEP_SECTION_KINDS.filter((kind) => kind !== "SERVICES" && kind !== "PRESENT_LEVELS").map((kind) => ({ kind, label: `Form part ${kind}` })),
  ],
  extraItems: [
    { key: "extendedSchoolYear", label: "Extended school year", description: "Whether the student needs extended school year services, and why", section: "SERVICES" },
    { key: "assistiveTechnology", label: "Assistive technology", description: "Assistive technology devices or services the student needs", section: "PRESENT_LEVELS" },
  ],
  defaultInstructions: "Write for families first; keep every sentence short.",
};

describe("iepLayout", () => {
  it("lays out an IEP from before templates in §300.320 order with today's labels, sections that do not apply as null", () => {
    const content = { presentLevels: { a: 1 }, services: { b: 2 }, transition: null, templateItems: { stray: "kept out" } };
    const layout = iepLayout(content, null);
    expect(layout.map((s) => [s.kind, s.label])).toEqual(DEFAULT_TEMPLATE.sections.map((s) => [s.kind, s.label]));
    expect(layout.find((s) => s.kind === "SERVICES")!.content).toEqual({ b: 2 });
    expect(layout.find((s) => s.kind === "TRANSITION")!.content).toBeNull();
    expect(layout.every((s) => s.extraItems.length === 0)).toBe(true);
  });

  it("gives an extra item without a value null (content written before the item existed)", () => {
    const version: TemplateVersion = {
      ...DEFAULT_TEMPLATE, extraItems: [{ key: "esy", label: "ESY", description: "Extended school year", section: "SERVICES" }],
    };
    const services = iepLayout({ services: {} }, version).find((s) => s.kind === "SERVICES")!;
    expect(services.extraItems).toEqual([{ key: "esy", label: "ESY", description: "Extended school year", section: "SERVICES", value: null }]);
  });
});

describe("IEP templates", () => {
  let stack: TestStack;
  let admin: Tenant;
  let studentId: string;

  /** A user of the admin's school with another role. */
  async function colleague(role: UserRole): Promise<string> {
    const user = await insertUser(stack.runtime.pool, { schoolId: admin.schoolId, email: `${role}-${Math.random()}@example.org`, name: role, role });
    return signToken({ userId: user.id, schoolId: admin.schoolId, role }, TEST_JWT_SECRET);
  }
  const generationCount = async () =>
    Number((await stack.runtime.pool.query("select count(*) from generations where school_id = $1", [admin.schoolId])).rows[0].count);
  const templateRows = async () =>
    Number((await stack.runtime.pool.query("select (select count(*) from iep_templates) + (select count(*) from iep_template_versions) as n")).rows[0].n);

  async function create(input: Record<string, unknown>, token = admin.token) {
    return (await stack.gql(CREATE, { input }, token)).data?.createIepTemplate;
  }
  async function generateWith(input: Record<string, unknown>) {
    const result = await stack.gql(GENERATE_IEP, { input: { studentId, ...input }, async: false }, admin.token);
    return result.data.generateIep;
  }
  async function iepOf(generationId: string) {
    const generation = (await stack.gql(GENERATION, { id: generationId }, admin.token)).data.generation;
    expect(generation.error).toBeNull();
    return { generation, iep: (await stack.gql(IEP, { id: generation.iep.id }, admin.token)).data.iep };
  }

  beforeAll(async () => {
    stack = await startTestStack();
    admin = await stack.createTenant("ADMIN");
    studentId = await studentWithEvidence(stack, { token: admin.token });
  }, 60_000);
  afterAll(() => stack?.close());

  it("offers every school the built-in template: §300.320 order and labels, read-only", async () => {
    const { iepTemplates } = (await stack.gql(TEMPLATES, {}, admin.token)).data;
    expect(iepTemplates).toHaveLength(1);
    const [builtIn] = iepTemplates;
    expect(builtIn).toMatchObject({ id: DEFAULT_TEMPLATE_ID, isDefault: true, versions: [{ version: 1 }] });
    expect(builtIn.latest.sections).toEqual(DEFAULT_TEMPLATE.sections);
    expect(builtIn.latest.sections.map((s: { kind: string }) => s.kind)).toEqual([...IEP_SECTION_KINDS]);

    const update = (await stack.gql(UPDATE, { input: { id: DEFAULT_TEMPLATE_ID, name: "Mine now" } }, admin.token)).data.updateIepTemplate;
    expect(update).toMatchObject({ __typename: "InvalidStateError", currentState: "BUILT_IN" });
    const archive = (await stack.gql(ARCHIVE, { id: DEFAULT_TEMPLATE_ID }, admin.token)).data.archiveIepTemplate;
    expect(archive).toMatchObject({ __typename: "InvalidStateError", currentState: "BUILT_IN" });
  });

  it("lets neither a TEACHER nor a CASE_MANAGER create, change or archive a template", async () => {
    const before = await templateRows();
    for (const role of ["TEACHER", "CASE_MANAGER"] as const) {
      const token = await colleague(role);
      const created = await stack.gql(CREATE, { input: STATE_TEMPLATE }, token);
      expect(created.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
      const updated = await stack.gql(UPDATE, { input: { id: DEFAULT_TEMPLATE_ID, name: "x" } }, token);
      expect(updated.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
      expect((await stack.gql(TEMPLATES, {}, token)).data.iepTemplates).toHaveLength(1);
    }
    expect(await templateRows()).toBe(before);
  });

  it("refuses bad templates with a ValidationError and writes nothing", async () => {
    const before = await templateRows();
    const cases: [Record<string, unknown>, string][] = [
      [{ ...STATE_TEMPLATE, sections: STATE_TEMPLATE.sections.slice(1) }, "sections"],
      [{ ...STATE_TEMPLATE, sections: [...STATE_TEMPLATE.sections.slice(1), STATE_TEMPLATE.sections[1]] }, "sections"],
      [{ ...STATE_TEMPLATE, extraItems: [STATE_TEMPLATE.extraItems[0], STATE_TEMPLATE.extraItems[0]] }, "extraItems"],
      [{ ...STATE_TEMPLATE, extraItems: [{ ...STATE_TEMPLATE.extraItems[0], key: "extended school year" }] }, "extraItems"],
      [{ ...STATE_TEMPLATE, name: "   " }, "name"],
      [{ ...STATE_TEMPLATE, defaultInstructions: "x".repeat(2001) }, "defaultInstructions"],
    ];
    for (const [input, field] of cases) {
      const payload = await create(input);
      expect(payload.__typename).toBe("ValidationError");
      expect(payload.fieldErrors[0].path[0]).toBe(field);
    }
    expect(await templateRows()).toBe(before);
  });

  it("drafts an IEP by a custom template: its extra items, its version, its section order", async () => {
    const created = await create(STATE_TEMPLATE);
    expect(created.__typename).toBe("IepTemplateSuccess");
    const template = created.template;
    expect(template).toMatchObject({ name: STATE_TEMPLATE.name, isDefault: false, latest: { version: 1, defaultInstructions: STATE_TEMPLATE.defaultInstructions } });
    const requestsBefore = stack.simulator.requests.length;

    const payload = await generateWith({ templateId: template.id });
    expect(payload.__typename).toBe("GenerateIepSuccess");
    const { generation, iep } = await iepOf(payload.generation.id);
    expect(generation.template).toEqual({ id: template.latest.id, version: 1 });
    expect(iep.template).toMatchObject({ id: template.latest.id, version: 1, template: { id: template.id } });
    for (const item of STATE_TEMPLATE.extraItems) expect(iep.content.templateItems[item.key]).toMatch(/\S/);

    const layout = iepLayout(iep.content, iep.template as TemplateVersion);
    expect(layout.map((s) => s.label)).toEqual(STATE_TEMPLATE.sections.map((s) => s.label));
    expect(layout[0]!.extraItems.map((i) => [i.key, i.value])).toEqual([["extendedSchoolYear", iep.content.templateItems.extendedSchoolYear]]);
    expect(layout[1]!.extraItems.map((i) => i.key)).toEqual(["assistiveTechnology"]);

    const drafts = stack.simulator.requests.slice(requestsBefore).filter((r) => r.operation !== "embed");
    const prompt = JSON.stringify(drafts[0]!.body);
    expect(prompt).toContain(STATE_TEMPLATE.defaultInstructions);
    expect(prompt).toContain("extendedSchoolYear");
  });

  it("makes each update a new version; IEPs keep the version they used, redrafts too", async () => {
    const template = (await create({ ...STATE_TEMPLATE, name: "Versioned form" })).template;
    const first = await iepOf((await generateWith({ templateId: template.id })).generation.id);

    const updated = (await stack.gql(UPDATE, {
      input: { id: template.id, extraItems: [{ key: "behaviorPlan", label: "Behavior plan", description: "Whether a behavior intervention plan is needed", section: "ANNUAL_GOALS" }] },
    }, admin.token)).data.updateIepTemplate;
    expect(updated.__typename).toBe("IepTemplateSuccess");
    expect(updated.template.latest).toMatchObject({ version: 2, sections: STATE_TEMPLATE.sections, defaultInstructions: STATE_TEMPLATE.defaultInstructions });
    expect(updated.template.versions.map((v: { version: number }) => v.version)).toEqual([2, 1]);

    const second = await iepOf((await generateWith({ templateId: template.id })).generation.id);
    expect(second.iep.template.version).toBe(2);
    expect(Object.keys(second.iep.content.templateItems)).toEqual(["behaviorPlan"]);
    const firstAgain = (await stack.gql(IEP, { id: first.iep.id }, admin.token)).data.iep;
    expect(firstAgain.template).toMatchObject({ id: template.latest.id, version: 1 });

    const redraft = (await stack.gql(REDRAFT, { input: { iepId: first.iep.id, section: "SERVICES" } }, admin.token)).data.regenerateIepSection;
    expect(redraft.generation).toMatchObject({ status: "SUCCEEDED", error: null, template: { id: template.latest.id } });
    const redrafted = (await stack.gql(IEP, { id: redraft.generation.iep.id }, admin.token)).data.iep;
    expect(redrafted.template.version).toBe(1);
    expect(redrafted.content.templateItems).toEqual(first.iep.content.templateItems);
    expect([redrafted.meetingDate, redrafted.effectiveDate, redrafted.annualReviewDate])
      .toEqual([first.iep.meetingDate, first.iep.effectiveDate, first.iep.annualReviewDate]);

    const { iepTemplate } = (await stack.gql(TEMPLATE, { id: template.id }, admin.token)).data;
    expect(iepTemplate.latest.version).toBe(2);
  });

  it("refuses an unknown, archived or other school's template with a NotFoundError and writes nothing", async () => {
    const other = await stack.createTenant("ADMIN");
    const foreign = (await create({ ...STATE_TEMPLATE, name: "Other school's form" }, other.token)).template;
    expect((await stack.gql(TEMPLATE, { id: foreign.id }, admin.token)).data.iepTemplate).toBeNull();
    const archived = (await create({ ...STATE_TEMPLATE, name: "Old form" })).template;
    expect((await stack.gql(ARCHIVE, { id: archived.id }, admin.token)).data.archiveIepTemplate.template.archivedAt).toEqual(expect.any(String));

    const before = await generationCount();
    for (const templateId of [foreign.id, archived.id, "9b1d3c43-1b7a-4a8e-9d55-3f0e8f7c2a10", "not-a-template"]) {
      const payload = await generateWith({ templateId });
      expect(payload).toMatchObject({ __typename: "NotFoundError", resourceType: "IepTemplate", resourceId: templateId });
    }
    const batch = await stack.gql(/* GraphQL */ `
      mutation TemplatesBatch($input: GenerateIepsInput!) { generateIeps(input: $input) { __typename ... on NotFoundError { resourceType } } }
    `, { input: { studentIds: [studentId], templateId: foreign.id } }, admin.token);
    expect(batch.data.generateIeps).toEqual({ __typename: "NotFoundError", resourceType: "IepTemplate" });
    expect(await generationCount()).toBe(before);
    const updateForeign = (await stack.gql(UPDATE, { input: { id: foreign.id, name: "Taken" } }, admin.token)).data.updateIepTemplate;
    expect(updateForeign).toMatchObject({ __typename: "NotFoundError", resourceType: "IepTemplate" });
  });

  it("keeps schools apart under row-level security; the built-in template and every version stay unchanged", async () => {
    const pool = stack.runtime.pool;
    const other = await stack.createTenant("ADMIN");
    const theirs = (await create({ ...STATE_TEMPLATE, name: "Their form" }, other.token)).template;
    const visible = await asSchool(admin.schoolId, () => pool.query("select id, school_id from iep_templates"));
    expect(visible.rows.map((r) => r.id)).toContain(DEFAULT_TEMPLATE_ID);
    expect(visible.rows.map((r) => r.id)).not.toContain(theirs.id);
    expect(visible.rows.every((r) => r.school_id === null || r.school_id === admin.schoolId)).toBe(true);

    const changed = await asSchool(admin.schoolId, () =>
      pool.query("update iep_templates set name = 'Hijacked' where id = any($1::uuid[])", [[DEFAULT_TEMPLATE_ID, theirs.id]]));
    expect(changed.rowCount).toBe(0);
    await expect(asSchool(admin.schoolId, () =>
      pool.query("insert into iep_templates (school_id, name) values ($1, 'Planted')", [other.schoolId]))).rejects.toThrow(/row-level security/);
    await expect(asSchool(other.schoolId, () =>
      pool.query("update iep_template_versions set default_instructions = 'changed' where id = $1", [theirs.latest.id]))).rejects.toThrow(/immutable/);
    const builtIn = (await stack.gql(TEMPLATE, { id: DEFAULT_TEMPLATE_ID }, other.token)).data.iepTemplate;
    expect(builtIn.latest.sections).toEqual(DEFAULT_TEMPLATE.sections);
  });
});
