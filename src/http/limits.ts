import { blockFieldSuggestionsPlugin } from "@escape.tech/graphql-armor-block-field-suggestions";
import { costLimitRule, type CostLimitOptions } from "@escape.tech/graphql-armor-cost-limit";
import { maxAliasesPlugin } from "@escape.tech/graphql-armor-max-aliases";
import { maxDepthPlugin } from "@escape.tech/graphql-armor-max-depth";
import { maxDirectivesPlugin } from "@escape.tech/graphql-armor-max-directives";
import { maxTokensPlugin } from "@escape.tech/graphql-armor-max-tokens";
import type { GraphQLArmorRejectCallback } from "@escape.tech/graphql-armor-types";
import {
  getNullableType,
  GraphQLError,
  isListType,
  isObjectType,
  Kind,
  TypeInfo,
  validate,
  visit,
  visitWithTypeInfo,
  type ArgumentNode,
  type DocumentNode,
  type FieldNode,
  type GraphQLSchema,
  type ValidationRule,
} from "graphql";
import type { Plugin } from "graphql-yoga";
import type { RequestLimits } from "../security.ts";

/** `extensions.code` of every request rejected by a limit, before anything runs (HTTP 400). */
export const QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX";

export type LimitName = "depth" | "cost" | "aliases" | "tokens" | "directives";

/** The largest page any field returns: a `first`/`last` given as a variable, or above it, counts as this. */
export const MAX_PAGE_SIZE = 100;
/** The page a paginated field returns without `first` when its schema declares no default (students, generations). */
export const DEFAULT_PAGE_SIZE = 20;
/** How many items a list without `first` (a student's evidence, a document's chunks, …) is assumed to hold. */
export const ASSUMED_LIST_SIZE = 10;

/**
 * Bounded work per request: depth, cost, alias, token and directive limits (graphql-armor) checked
 * while parsing and validating, so nothing over a limit executes, in every mode. A request over a
 * limit gets a GraphQL error with `extensions.code = "QUERY_TOO_COMPLEX"` (and `limit`, `max`)
 * and HTTP 400. In production, no error suggests names of the schema ("Did you mean …?").
 *
 * Introspection (GraphiQL's schema query) is not counted for depth or cost.
 */
export function requestLimitPlugins(limits: RequestLimits, production: boolean): Plugin[] {
  const plugins: Plugin[] = [
    maxTokensPlugin({ n: limits.maxTokens, ...rejectWith("tokens", limits.maxTokens) }),
    maxDepthPlugin({ n: limits.maxDepth, ignoreIntrospection: true, flattenFragments: true, ...rejectWith("depth", limits.maxDepth) }),
    maxAliasesPlugin({ n: limits.maxAliases, ...rejectWith("aliases", limits.maxAliases) }),
    maxDirectivesPlugin({ n: limits.maxDirectives, ...rejectWith("directives", limits.maxDirectives) }),
    costPlugin({ maxCost: limits.maxCost, ...rejectWith("cost", limits.maxCost) }),
    badRequestStatus(),
  ];
  if (production) plugins.push(blockFieldSuggestionsPlugin(), hideValueSuggestions());
  return plugins;
}

/** The typed error of a rejected request. */
export function queryTooComplex(message: string, limit: LimitName, max: number): GraphQLError {
  return new GraphQLError(message, { extensions: { code: QUERY_TOO_COMPLEX, limit, max, http: { status: 400 } } });
}

const VALUE_SUGGESTION = /\s*Did you mean [^?]*\?/g;

/**
 * Armor hides suggested field, argument and type names in validation errors; this hides the rest
 * ("Did you mean the enum value …?"), in validation and in the coercion of variables.
 */
function hideValueSuggestions(): Plugin {
  const hide = (errors: readonly Error[] | undefined) => {
    for (const error of errors ?? []) error.message = error.message.replace(VALUE_SUGGESTION, "");
  };
  return {
    onValidate: () => ({ result }) => hide(result),
    onExecute: () => ({ onExecuteDone: ({ result }) => (Symbol.asyncIterator in result ? undefined : hide(result.errors)) }),
    onSubscribe: () => ({ onSubscribeResult: ({ result }) => (Symbol.asyncIterator in result ? undefined : hide(result.errors)) }),
  };
}

/**
 * Over-limit rejections answer 400 whatever the Accept header: yoga marks parse and validation
 * errors as GraphQL-over-HTTP ones, which `application/json` clients would get with a 200.
 */
function badRequestStatus(): Plugin {
  return {
    onResultProcess({ result }) {
      if (Array.isArray(result) || !("errors" in result)) return;
      for (const error of result.errors ?? []) {
        if (error.extensions?.code === QUERY_TOO_COMPLEX) error.extensions.http = { status: 400, spec: false };
      }
    },
  };
}

/**
 * Armor's rejection turned into the typed error: reported to validation (which then fails with
 * 400), or thrown from the parser (tokens are counted while lexing, before there is a document).
 */
function rejectWith(limit: LimitName, max: number): { onReject: GraphQLArmorRejectCallback[]; propagateOnRejection: false } {
  const onReject: GraphQLArmorRejectCallback = (context, error) => {
    const typed = queryTooComplex(error.message.replace(/^Syntax Error: /, ""), limit, max);
    if (!context) throw typed;
    context.reportError(typed);
  };
  return { onReject: [onReject], propagateOnRejection: false };
}

/**
 * Armor's cost limit over the document with its list sizes made explicit. Armor multiplies a
 * field's cost by a literal `first`/`last` only; here a variable (or a literal over the largest
 * page) counts as MAX_PAGE_SIZE and a list of objects without one as ASSUMED_LIST_SIZE, so
 * neither variables nor nested lists (student → evidence → student → evidence …) escape it.
 * Without a depth factor, the cost estimates how many values the response holds (an object
 * counts 2, a scalar 1).
 */
function costPlugin(options: CostLimitOptions): Plugin {
  const rule = costLimitRule({ ...options, depthCostFactor: 1, flattenFragments: true, ignoreIntrospection: true });
  const sizedCostRule: ValidationRule = (context) => ({
    Document(document) {
      const schema = context.getSchema();
      for (const error of validate(schema, withListSizes(schema, document), [rule])) context.reportError(error);
      return false;
    },
  });
  return { onValidate: ({ addValidationRule }) => addValidationRule(sizedCostRule) };
}

/** A copy of `document` in which every list of objects states the size armor should count. */
export function withListSizes(schema: GraphQLSchema, document: DocumentNode): DocumentNode {
  const typeInfo = new TypeInfo(schema);
  return visit(document, visitWithTypeInfo(typeInfo, {
    Field: {
      leave(node) {
        const field = typeInfo.getFieldDef();
        if (!field || !node.selectionSet) return undefined;
        const sized = node.arguments?.find((arg) => arg.name.value === "first" || arg.name.value === "last");
        if (sized) return sized.value.kind === Kind.INT && Number(sized.value.value) <= MAX_PAGE_SIZE ? undefined : withSize(node, sized, MAX_PAGE_SIZE);
        const pageArg = field.args.find((arg) => arg.name === "first" || arg.name === "last");
        if (pageArg) return withSize(node, undefined, typeof pageArg.defaultValue === "number" ? pageArg.defaultValue : DEFAULT_PAGE_SIZE);
        const parent = typeInfo.getParentType();
        const isEdges = node.name.value === "edges" && isObjectType(parent) && parent.getFields().pageInfo !== undefined;
        return isListType(getNullableType(field.type)) && !isEdges ? withSize(node, undefined, ASSUMED_LIST_SIZE) : undefined;
      },
    },
  }));
}

function withSize(node: FieldNode, replaced: ArgumentNode | undefined, size: number): FieldNode {
  const first: ArgumentNode = { kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: "first" }, value: { kind: Kind.INT, value: String(size) } };
  return { ...node, arguments: [first, ...(node.arguments ?? []).filter((arg) => arg !== replaced)] };
}
