import {
  getNamedType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isUnionType,
  TypeInfo,
  valueFromASTUntyped,
  visit,
  visitWithTypeInfo,
  type ExecutionArgs,
  type GraphQLError,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLSchema,
} from "graphql";
import type { Plugin } from "graphql-yoga";
import { badUserInput, findUnsafeText, MAX_ID_LENGTH, type FieldError } from "../errors.ts";

/** At most this many problems are reported for one request. */
const MAX_REPORTED = 10;

/**
 * Refuses, before execution, arguments no resolver should see: strings holding NUL or unpaired
 * surrogates anywhere (variables and inline literals, nested input objects and lists included),
 * and `ID` values longer than MAX_ID_LENGTH (ids are UUIDs). Each problem is a GraphQL error with
 * `extensions.code = "BAD_USER_INPUT"`, the argument path in `extensions.fieldErrors` and the
 * field's response path; no value is echoed.
 *
 * Arguments of mutation fields whose payload union has a `ValidationError` member are left alone:
 * their services answer with that typed member (every zod schema goes through `parseInput`,
 * which makes the same text check), so clients keep getting union members, never top-level errors.
 */
export function inputHygienePlugin(): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const errors = findUnhygienicArguments(args);
      if (errors.length > 0) setResultAndStopExecution({ errors });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const errors = findUnhygienicArguments(args);
      if (errors.length > 0) setResultAndStopExecution({ errors });
    },
  };
}

/** The problems in a request's arguments (empty when there are none). */
export function findUnhygienicArguments(args: Pick<ExecutionArgs, "schema" | "document" | "variableValues">): GraphQLError[] {
  const { schema } = args;
  const typeInfo = new TypeInfo(schema);
  const responsePath: string[] = [];
  const errors: GraphQLError[] = [];
  visit(args.document, visitWithTypeInfo(typeInfo, {
    Field: {
      enter: (node) => void responsePath.push(node.alias?.value ?? node.name.value),
      leave: () => void responsePath.pop(),
    },
    Argument(node) {
      const argument = typeInfo.getArgument();
      const field = typeInfo.getFieldDef();
      if (!argument || errors.length >= MAX_REPORTED) return;
      if (!typeInfo.getDirective() && field && typeInfo.getParentType() === schema.getMutationType() && answersWithValidationError(schema, field)) return;
      const value = valueFromASTUntyped(node.value, args.variableValues ?? undefined);
      for (const problem of inspect(argument.type, value, [argument.name])) {
        const where = typeInfo.getDirective() ? `@${typeInfo.getDirective()!.name}` : responsePath.join(".");
        errors.push(badUserInput(`Invalid argument ${problem.path.join(".")} of ${where}: ${problem.message}`, problem.path, [...responsePath]));
      }
    },
  }));
  return errors.slice(0, MAX_REPORTED);
}

/** Whether a field's payload union has a ValidationError member (its service reports bad input itself). */
function answersWithValidationError(schema: GraphQLSchema, field: GraphQLField<unknown, unknown>): boolean {
  const type = getNamedType(field.type);
  const validationError = schema.getType("ValidationError");
  return isUnionType(type) && validationError !== undefined && type.getTypes().some((member) => member === validationError);
}

/** Walks a value along its input type: unstorable text anywhere, over-long values of ID type. */
function inspect(type: GraphQLInputType, value: unknown, path: string[]): FieldError[] {
  if (value === null || value === undefined) return [];
  if (isNonNullType(type)) return inspect(type.ofType, value, path);
  if (isListType(type)) {
    return Array.isArray(value) ? value.flatMap((item, index) => inspect(type.ofType, item, [...path, String(index)])) : inspect(type.ofType, value, path);
  }
  if (isInputObjectType(type)) {
    if (typeof value !== "object") return [];
    return Object.values(type.getFields()).flatMap((field) => inspect(field.type, (value as Record<string, unknown>)[field.name], [...path, field.name]));
  }
  if (type.name === "ID" && typeof value === "string" && value.length > MAX_ID_LENGTH) {
    return [{ path, message: `is not an id (ids are at most ${MAX_ID_LENGTH} characters)` }];
  }
  return findUnsafeText(value, path);
}
