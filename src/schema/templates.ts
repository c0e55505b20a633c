/**
 * IEP templates: types, queries (any staff), admin mutations (each update is a new version), and
 * the template, dates and evidence kinds of generations and IEPs.
 */
import { builder } from "../builder.ts";
import type { GraphQLContext } from "../context.ts";
import {
  findTemplatesByIds, latestVersionsOfTemplates, listTemplates, listVersionsOfTemplates, type TemplateRecord,
  type TemplateVersionRecord,
} from "../db/templates.ts";
import { InvalidStateError, NotFoundError, ValidationError } from "../errors.ts";
import { isUuid } from "../ids.ts";
import type { TemplateItem, TemplateSection } from "../iep/templates.ts";
import { archiveIepTemplate, createIepTemplate, updateIepTemplate } from "../services/templates.ts";
import { EvidenceKindEnum } from "./evidence.ts";
import { GenerationRef } from "./generations.ts";
import { IepRef, IepSectionKindEnum, templateVersionLoader } from "./ieps.ts";

const IepTemplateSectionRef = builder.objectRef<TemplateSection>("IepTemplateSection").implement({
  description: "A section of a template: which part of the IEP, under which heading.",
  fields: (t) => ({
    kind: t.field({ type: IepSectionKindEnum, resolve: (s) => s.kind }),
    label: t.exposeString("label"),
  }),
});

const IepTemplateItemRef = builder.objectRef<TemplateItem>("IepTemplateItem").implement({
  description: "An extra required item (a state-specific field): the draft fills it in, as `content.templateItems.<key>`.",
  fields: (t) => ({
    key: t.exposeString("key"),
    label: t.exposeString("label"),
    description: t.exposeString("description", { description: "What to write; given to the model." }),
    section: t.field({ type: IepSectionKindEnum, description: "The section it is shown in.", resolve: (i) => i.section }),
  }),
});

/** By id through templateVersionLoader (iep.template, generation.template), the same loader Iep.sections lays IEPs out with. */
export const IepTemplateVersionRef = builder.objectRef<TemplateVersionRecord>("IepTemplateVersion");

const IepTemplateRef = builder.loadableObjectRef("IepTemplate", {
  load: (ids: string[], ctx: GraphQLContext) => findTemplatesByIds(ctx.deps.pool, ctx.viewer.schoolId, ids),
  sort: (template) => template.id,
  cacheResolved: (template) => template.id,
});

IepTemplateVersionRef.implement({
  description: "One immutable version of an IEP template; an IEP records the version it followed.",
  fields: (t) => ({
    id: t.exposeID("id"),
    version: t.exposeInt("version"),
    template: t.field({ type: IepTemplateRef, resolve: (v) => v.templateId }),
    sections: t.field({ type: [IepTemplateSectionRef], description: "Every section, in the template's order.", resolve: (v) => v.sections }),
    extraItems: t.field({ type: [IepTemplateItemRef], resolve: (v) => v.extraItems }),
    defaultInstructions: t.exposeString("defaultInstructions", { nullable: true, description: "Given to the model with every draft." }),
    createdAt: t.field({ type: "DateTime", resolve: (v) => v.createdAt }),
  }),
});

IepTemplateRef.implement({
  description: "An IEP template: section order and labels, extra required items and default instructions, versioned.",
  fields: (t) => ({
    id: t.exposeID("id"),
    name: t.exposeString("name"),
    isDefault: t.boolean({ description: "The built-in §300.320 template: every school's, read-only.", resolve: (tpl) => tpl.school_id === null }),
    archivedAt: t.field({ type: "DateTime", nullable: true, resolve: (tpl) => tpl.archived_at }),
    createdAt: t.field({ type: "DateTime", resolve: (tpl) => tpl.created_at }),
    latest: t.loadable({
      type: IepTemplateVersionRef,
      load: (templateIds: string[], ctx: GraphQLContext) => latestVersionsOfTemplates(ctx.deps.pool, ctx.viewer.schoolId, templateIds),
      sort: (version) => (version as TemplateVersionRecord).templateId, // loaded rows only (typed as key | row)
      resolve: (tpl) => tpl.id,
    }),
    versions: t.loadableGroup({
      type: IepTemplateVersionRef,
      description: "Newest first.",
      load: (templateIds: string[], ctx: GraphQLContext) => listVersionsOfTemplates(ctx.deps.pool, ctx.viewer.schoolId, templateIds),
      group: (version) => (version as TemplateVersionRecord).templateId, // loaded rows only (typed as key | row)
      resolve: (tpl) => tpl.id,
    }),
  }),
});

const IepTemplateSectionInputRef = builder.inputType("IepTemplateSectionInput", {
  fields: (t) => ({ kind: t.field({ type: IepSectionKindEnum, required: true }), label: t.string({ required: true }) }),
});
const IepTemplateItemInputRef = builder.inputType("IepTemplateItemInput", {
  fields: (t) => ({
    key: t.string({ required: true, description: "A camelCase identifier, unique in the template." }),
    label: t.string({ required: true }),
    description: t.string({ required: true }),
    section: t.field({ type: IepSectionKindEnum, required: true }),
  }),
});
const CreateIepTemplateInputRef = builder.inputType("CreateIepTemplateInput", {
  fields: (t) => ({
    name: t.string({ required: true }),
    sections: t.field({ type: [IepTemplateSectionInputRef], description: "Every section once, in order; default: §300.320 order and labels." }),
    extraItems: t.field({ type: [IepTemplateItemInputRef], description: "At most 20." }),
    defaultInstructions: t.string({ description: "At most 2,000 characters." }),
  }),
});
const UpdateIepTemplateInputRef = builder.inputType("UpdateIepTemplateInput", {
  fields: (t) => ({
    id: t.id({ required: true }),
    name: t.string(),
    sections: t.field({ type: [IepTemplateSectionInputRef] }),
    extraItems: t.field({ type: [IepTemplateItemInputRef] }),
    defaultInstructions: t.string({ description: "An empty string clears them." }),
  }),
});

const IepTemplateSuccess = builder.objectRef<{ template: TemplateRecord }>("IepTemplateSuccess").implement({
  fields: (t) => ({ template: t.field({ type: IepTemplateRef, resolve: (r) => r.template }) }),
});
const IepTemplatePayload = builder.errorUnion("IepTemplatePayload", {
  types: [IepTemplateSuccess, ValidationError, NotFoundError, InvalidStateError],
  resolveType: () => "IepTemplateSuccess",
});

builder.queryFields((t) => ({
  iepTemplates: t.field({
    type: [IepTemplateRef],
    description: "The built-in template and the school's own (archived ones included), built-in first.",
    authScopes: { staff: true },
    resolve: (_root, _args, ctx) => listTemplates(ctx.deps.pool, ctx.viewer.schoolId),
  }),
  iepTemplate: t.field({
    type: IepTemplateRef,
    nullable: true,
    authScopes: { staff: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => (isUuid(id) ? (await findTemplatesByIds(ctx.deps.pool, ctx.viewer.schoolId, [id]))[0] ?? null : null),
  }),
}));

builder.mutationFields((t) => ({
  createIepTemplate: t.field({
    type: IepTemplatePayload,
    description: "ADMIN: a new template of the school (version 1).",
    authScopes: { admin: true },
    args: { input: t.arg({ type: CreateIepTemplateInputRef, required: true }) },
    resolve: async (_root, args, ctx) => ({ template: await createIepTemplate(ctx.deps.pool, ctx.viewer, args.input) }),
  }),
  updateIepTemplate: t.field({
    type: IepTemplatePayload,
    description: "ADMIN: a new version of one of the school's templates; fields left out are kept. IEPs keep the version they used.",
    authScopes: { admin: true },
    args: { input: t.arg({ type: UpdateIepTemplateInputRef, required: true }) },
    resolve: async (_root, args, ctx) => ({ template: await updateIepTemplate(ctx.deps.pool, ctx.viewer, args.input) }),
  }),
  archiveIepTemplate: t.field({
    type: IepTemplatePayload,
    description: "ADMIN: new generations can no longer use the template; IEPs that used it keep it.",
    authScopes: { admin: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => ({ template: await archiveIepTemplate(ctx.deps.pool, ctx.viewer, args.id) }),
  }),
}));

const templateVersionOf = (ctx: GraphQLContext, id: string | null) => (id ? templateVersionLoader(ctx).load(id) : null);
const TEMPLATE_DESCRIPTION = "The template version followed (null: from before templates, laid out as the built-in one).";
const REVIEW_DESCRIPTION = "Goals are met and services end by this date.";

builder.objectFields(IepRef, (t) => ({
  template: t.field({ type: IepTemplateVersionRef, nullable: true, description: TEMPLATE_DESCRIPTION, resolve: (iep, _args, ctx) => templateVersionOf(ctx, iep.template_version_id) }),
  meetingDate: t.field({ type: "LocalDate", nullable: true, resolve: (iep) => iep.meeting_date }),
  effectiveDate: t.field({ type: "LocalDate", nullable: true, resolve: (iep) => iep.effective_date }),
  annualReviewDate: t.field({ type: "LocalDate", nullable: true, description: REVIEW_DESCRIPTION, resolve: (iep) => iep.annual_review_date }),
}));

builder.objectFields(GenerationRef, (t) => ({
  template: t.field({ type: IepTemplateVersionRef, nullable: true, description: TEMPLATE_DESCRIPTION, resolve: (g, _args, ctx) => templateVersionOf(ctx, g.template_version_id) }),
  meetingDate: t.field({ type: "LocalDate", nullable: true, resolve: (g) => g.meeting_date }),
  effectiveDate: t.field({ type: "LocalDate", nullable: true, resolve: (g) => g.effective_date }),
  annualReviewDate: t.field({ type: "LocalDate", nullable: true, description: REVIEW_DESCRIPTION, resolve: (g) => g.annual_review_date }),
  evidenceKinds: t.field({
    type: [EvidenceKindEnum], nullable: true, description: "The evidence kinds that feed retrieval; null: every kind.", resolve: (g) => g.evidence_kinds,
  }),
}));
