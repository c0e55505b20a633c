/* eslint-disable */
import * as types from './graphql.ts';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  query WebMe {\n    me { id name email role school { id name } }\n  }\n": typeof types.WebMeDocument,
    "\n  query WebStudents($after: String) {\n    students(first: 100, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node { id fullName grade age } }\n    }\n  }\n": typeof types.WebStudentsDocument,
    "\n  query WebStudent($id: ID!) {\n    student(id: $id) {\n      id fullName grade age disabilityCategories primaryLanguage\n      evidence { id title kind status error chunkCount createdAt pageCount stage pagesDone source { filename mediaType byteSize downloadUrl } }\n      ieps { id version status academicYear createdAt }\n    }\n    generations(first: 5, filter: { studentId: $id }) {\n      edges { node { id status stage progress createdAt kind } }\n    }\n    evidenceUploadLimits { maxBytes maxPages }\n  }\n": typeof types.WebStudentDocument,
    "\n  mutation WebAddEvidence($input: AddEvidenceInput!) {\n    addEvidence(input: $input) {\n      __typename\n      ... on AddEvidenceSuccess { evidence { id title kind status error chunkCount createdAt pageCount stage pagesDone source { filename mediaType byteSize downloadUrl } } }\n      ... on ValidationError { message fieldErrors { path message } }\n      ... on Error { message }\n    }\n  }\n": typeof types.WebAddEvidenceDocument,
    "\n  query WebEvidenceDownloadUrl($id: ID!) {\n    evidence(id: $id) { id source { downloadUrl } }\n  }\n": typeof types.WebEvidenceDownloadUrlDocument,
    "\n  subscription WebEvidenceStatus($studentId: ID!) {\n    evidenceStatusChanged(studentId: $studentId) { id title kind status error chunkCount createdAt pageCount stage pagesDone source { filename mediaType byteSize downloadUrl } }\n  }\n": typeof types.WebEvidenceStatusDocument,
    "\n  mutation WebGenerate($input: GenerateIepInput!) {\n    generateIep(input: $input) {\n      __typename\n      ... on GenerateIepSuccess { generation { id status stage progress message queuePosition estimatedCompletionAt lastSeq } }\n      ... on ValidationError { message fieldErrors { path message } }\n      ... on RateLimitedError { message retryAfter }\n      ... on Error { message }\n    }\n  }\n": typeof types.WebGenerateDocument,
    "\n  query WebGeneration($id: ID!) {\n    generation(id: $id) {\n      id status stage progress message error attempts maxAttempts lastSeq\n      queuePosition estimatedCompletionAt startedAt finishedAt createdAt kind\n      student { id fullName }\n      iep { id }\n    }\n  }\n": typeof types.WebGenerationDocument,
    "\n  query WebGenerationRecheck($studentId: ID!) {\n    generations(first: 50, filter: { studentId: $studentId }) {\n      edges {\n        node {\n          id status stage progress message error attempts maxAttempts lastSeq\n          queuePosition estimatedCompletionAt startedAt finishedAt createdAt kind\n          student { id fullName }\n          iep { id }\n        }\n      }\n    }\n  }\n": typeof types.WebGenerationRecheckDocument,
    "\n  subscription WebGenerationEvents($id: ID!, $afterSeq: Int) {\n    generationEvents(id: $id, afterSeq: $afterSeq) { seq status stage progress message textDelta at }\n  }\n": typeof types.WebGenerationEventsDocument,
    "\n  mutation WebCancel($id: ID!) {\n    cancelGeneration(id: $id) {\n      __typename\n      ... on CancelGenerationSuccess { generation { id status } }\n      ... on Error { message }\n    }\n  }\n": typeof types.WebCancelDocument,
    "\n  mutation WebRetry($id: ID!) {\n    retryGeneration(id: $id) {\n      __typename\n      ... on GenerateIepSuccess { generation { id status stage progress message queuePosition estimatedCompletionAt lastSeq } }\n      ... on Error { message }\n    }\n  }\n": typeof types.WebRetryDocument,
    "\n  query WebIep($id: ID!) {\n    iep(id: $id) {\n      id version revision status academicYear model createdAt\n      meetingDate effectiveDate annualReviewDate\n      printUrl submittedAt submittedBy { id name } approvedAt approvedBy { id name }\n      content\n      template { id version extraItems { key label section } }\n      student { id fullName }\n      versions { id version status }\n      diff { kind change changedPaths }\n      sections {\n        id kind label content missingCitations\n        provenance { source model promptVersion editedAt editedBy { id name } changedPaths }\n        citations { chunkId missing chunk { id ordinal page text evidence { id title kind } } }\n      }\n    }\n  }\n": typeof types.WebIepDocument,
    "\n  query WebPrintUrl($id: ID!) {\n    iep(id: $id) { id printUrl }\n  }\n": typeof types.WebPrintUrlDocument,
    "\n  query WebTemplates {\n    iepTemplates { id name isDefault }\n  }\n": typeof types.WebTemplatesDocument,
    "\n  mutation WebEditSection($input: EditIepSectionInput!) {\n    editIepSection(input: $input) {\n      __typename\n      ... on EditIepSectionSuccess { iep { id } }\n      ... on ValidationError { message fieldErrors { path message } }\n      ... on Error { message }\n    }\n  }\n": typeof types.WebEditSectionDocument,
    "\n  mutation WebSubmitForReview($id: ID!) {\n    submitIepForReview(id: $id) {\n      __typename\n      ... on IepReviewSuccess { iep { id status } }\n      ... on Error { message }\n    }\n  }\n": typeof types.WebSubmitForReviewDocument,
    "\n  mutation WebApprove($id: ID!) {\n    approveIep(id: $id) {\n      __typename\n      ... on IepReviewSuccess { iep { id status } }\n      ... on Error { message }\n    }\n  }\n": typeof types.WebApproveDocument,
};
const documents: Documents = {
    "\n  query WebMe {\n    me { id name email role school { id name } }\n  }\n": types.WebMeDocument,
    "\n  query WebStudents($after: String) {\n    students(first: 100, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node { id fullName grade age } }\n    }\n  }\n": types.WebStudentsDocument,
    "\n  query WebStudent($id: ID!) {\n    student(id: $id) {\n      id fullName grade age disabilityCategories primaryLanguage\n      evidence { id title kind status error chunkCount createdAt pageCount stage pagesDone source { filename mediaType byteSize downloadUrl } }\n      ieps { id version status academicYear createdAt }\n    }\n    generations(first: 5, filter: { studentId: $id }) {\n      edges { node { id status stage progress createdAt kind } }\n    }\n    evidenceUploadLimits { maxBytes maxPages }\n  }\n": types.WebStudentDocument,
    "\n  mutation WebAddEvidence($input: AddEvidenceInput!) {\n    addEvidence(input: $input) {\n      __typename\n      ... on AddEvidenceSuccess { evidence { id title kind status error chunkCount createdAt pageCount stage pagesDone source { filename mediaType byteSize downloadUrl } } }\n      ... on ValidationError { message fieldErrors { path message } }\n      ... on Error { message }\n    }\n  }\n": types.WebAddEvidenceDocument,
    "\n  query WebEvidenceDownloadUrl($id: ID!) {\n    evidence(id: $id) { id source { downloadUrl } }\n  }\n": types.WebEvidenceDownloadUrlDocument,
    "\n  subscription WebEvidenceStatus($studentId: ID!) {\n    evidenceStatusChanged(studentId: $studentId) { id title kind status error chunkCount createdAt pageCount stage pagesDone source { filename mediaType byteSize downloadUrl } }\n  }\n": types.WebEvidenceStatusDocument,
    "\n  mutation WebGenerate($input: GenerateIepInput!) {\n    generateIep(input: $input) {\n      __typename\n      ... on GenerateIepSuccess { generation { id status stage progress message queuePosition estimatedCompletionAt lastSeq } }\n      ... on ValidationError { message fieldErrors { path message } }\n      ... on RateLimitedError { message retryAfter }\n      ... on Error { message }\n    }\n  }\n": types.WebGenerateDocument,
    "\n  query WebGeneration($id: ID!) {\n    generation(id: $id) {\n      id status stage progress message error attempts maxAttempts lastSeq\n      queuePosition estimatedCompletionAt startedAt finishedAt createdAt kind\n      student { id fullName }\n      iep { id }\n    }\n  }\n": types.WebGenerationDocument,
    "\n  query WebGenerationRecheck($studentId: ID!) {\n    generations(first: 50, filter: { studentId: $studentId }) {\n      edges {\n        node {\n          id status stage progress message error attempts maxAttempts lastSeq\n          queuePosition estimatedCompletionAt startedAt finishedAt createdAt kind\n          student { id fullName }\n          iep { id }\n        }\n      }\n    }\n  }\n": types.WebGenerationRecheckDocument,
    "\n  subscription WebGenerationEvents($id: ID!, $afterSeq: Int) {\n    generationEvents(id: $id, afterSeq: $afterSeq) { seq status stage progress message textDelta at }\n  }\n": types.WebGenerationEventsDocument,
    "\n  mutation WebCancel($id: ID!) {\n    cancelGeneration(id: $id) {\n      __typename\n      ... on CancelGenerationSuccess { generation { id status } }\n      ... on Error { message }\n    }\n  }\n": types.WebCancelDocument,
    "\n  mutation WebRetry($id: ID!) {\n    retryGeneration(id: $id) {\n      __typename\n      ... on GenerateIepSuccess { generation { id status stage progress message queuePosition estimatedCompletionAt lastSeq } }\n      ... on Error { message }\n    }\n  }\n": types.WebRetryDocument,
    "\n  query WebIep($id: ID!) {\n    iep(id: $id) {\n      id version revision status academicYear model createdAt\n      meetingDate effectiveDate annualReviewDate\n      printUrl submittedAt submittedBy { id name } approvedAt approvedBy { id name }\n      content\n      template { id version extraItems { key label section } }\n      student { id fullName }\n      versions { id version status }\n      diff { kind change changedPaths }\n      sections {\n        id kind label content missingCitations\n        provenance { source model promptVersion editedAt editedBy { id name } changedPaths }\n        citations { chunkId missing chunk { id ordinal page text evidence { id title kind } } }\n      }\n    }\n  }\n": types.WebIepDocument,
    "\n  query WebPrintUrl($id: ID!) {\n    iep(id: $id) { id printUrl }\n  }\n": types.WebPrintUrlDocument,
    "\n  query WebTemplates {\n    iepTemplates { id name isDefault }\n  }\n": types.WebTemplatesDocument,
    "\n  mutation WebEditSection($input: EditIepSectionInput!) {\n    editIepSection(input: $input) {\n      __typename\n      ... on EditIepSectionSuccess { iep { id } }\n      ... on ValidationError { message fieldErrors { path message } }\n      ... on Error { message }\n    }\n  }\n": types.WebEditSectionDocument,
    "\n  mutation WebSubmitForReview($id: ID!) {\n    submitIepForReview(id: $id) {\n      __typename\n      ... on IepReviewSuccess { iep { id status } }\n      ... on Error { message }\n    }\n  }\n": types.WebSubmitForReviewDocument,
    "\n  mutation WebApprove($id: ID!) {\n    approveIep(id: $id) {\n      __typename\n      ... on IepReviewSuccess { iep { id status } }\n      ... on Error { message }\n    }\n  }\n": types.WebApproveDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query WebMe {\n    me { id name email role school { id name } }\n  }\n"): (typeof documents)["\n  query WebMe {\n    me { id name email role school { id name } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query WebStudents($after: String) {\n    students(first: 100, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node { id fullName grade age } }\n    }\n  }\n"): (typeof documents)["\n  query WebStudents($after: String) {\n    students(first: 100, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node { id fullName grade age } }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query WebStudent($id: ID!) {\n    student(id: $id) {\n      id fullName grade age disabilityCategories primaryLanguage\n      evidence { id title kind status error chunkCount createdAt pageCount stage pagesDone source { filename mediaType byteSize downloadUrl } }\n      ieps { id version status academicYear createdAt }\n    }\n    generations(first: 5, filter: { studentId: $id }) {\n      edges { node { id status stage progress createdAt kind } }\n    }\n    evidenceUploadLimits { maxBytes maxPages }\n  }\n"): (typeof documents)["\n  query WebStudent($id: ID!) {\n    student(id: $id) {\n      id fullName grade age disabilityCategories primaryLanguage\n      evidence { id title kind status error chunkCount createdAt pageCount stage pagesDone source { filename mediaType byteSize downloadUrl } }\n      ieps { id version status academicYear createdAt }\n    }\n    generations(first: 5, filter: { studentId: $id }) {\n      edges { node { id status stage progress createdAt kind } }\n    }\n    evidenceUploadLimits { maxBytes maxPages }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation WebAddEvidence($input: AddEvidenceInput!) {\n    addEvidence(input: $input) {\n      __typename\n      ... on AddEvidenceSuccess { evidence { id title kind status error chunkCount createdAt pageCount stage pagesDone source { filename mediaType byteSize downloadUrl } } }\n      ... on ValidationError { message fieldErrors { path message } }\n      ... on Error { message }\n    }\n  }\n"): (typeof documents)["\n  mutation WebAddEvidence($input: AddEvidenceInput!) {\n    addEvidence(input: $input) {\n      __typename\n      ... on AddEvidenceSuccess { evidence { id title kind status error chunkCount createdAt pageCount stage pagesDone source { filename mediaType byteSize downloadUrl } } }\n      ... on ValidationError { message fieldErrors { path message } }\n      ... on Error { message }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query WebEvidenceDownloadUrl($id: ID!) {\n    evidence(id: $id) { id source { downloadUrl } }\n  }\n"): (typeof documents)["\n  query WebEvidenceDownloadUrl($id: ID!) {\n    evidence(id: $id) { id source { downloadUrl } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription WebEvidenceStatus($studentId: ID!) {\n    evidenceStatusChanged(studentId: $studentId) { id title kind status error chunkCount createdAt pageCount stage pagesDone source { filename mediaType byteSize downloadUrl } }\n  }\n"): (typeof documents)["\n  subscription WebEvidenceStatus($studentId: ID!) {\n    evidenceStatusChanged(studentId: $studentId) { id title kind status error chunkCount createdAt pageCount stage pagesDone source { filename mediaType byteSize downloadUrl } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation WebGenerate($input: GenerateIepInput!) {\n    generateIep(input: $input) {\n      __typename\n      ... on GenerateIepSuccess { generation { id status stage progress message queuePosition estimatedCompletionAt lastSeq } }\n      ... on ValidationError { message fieldErrors { path message } }\n      ... on RateLimitedError { message retryAfter }\n      ... on Error { message }\n    }\n  }\n"): (typeof documents)["\n  mutation WebGenerate($input: GenerateIepInput!) {\n    generateIep(input: $input) {\n      __typename\n      ... on GenerateIepSuccess { generation { id status stage progress message queuePosition estimatedCompletionAt lastSeq } }\n      ... on ValidationError { message fieldErrors { path message } }\n      ... on RateLimitedError { message retryAfter }\n      ... on Error { message }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query WebGeneration($id: ID!) {\n    generation(id: $id) {\n      id status stage progress message error attempts maxAttempts lastSeq\n      queuePosition estimatedCompletionAt startedAt finishedAt createdAt kind\n      student { id fullName }\n      iep { id }\n    }\n  }\n"): (typeof documents)["\n  query WebGeneration($id: ID!) {\n    generation(id: $id) {\n      id status stage progress message error attempts maxAttempts lastSeq\n      queuePosition estimatedCompletionAt startedAt finishedAt createdAt kind\n      student { id fullName }\n      iep { id }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query WebGenerationRecheck($studentId: ID!) {\n    generations(first: 50, filter: { studentId: $studentId }) {\n      edges {\n        node {\n          id status stage progress message error attempts maxAttempts lastSeq\n          queuePosition estimatedCompletionAt startedAt finishedAt createdAt kind\n          student { id fullName }\n          iep { id }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query WebGenerationRecheck($studentId: ID!) {\n    generations(first: 50, filter: { studentId: $studentId }) {\n      edges {\n        node {\n          id status stage progress message error attempts maxAttempts lastSeq\n          queuePosition estimatedCompletionAt startedAt finishedAt createdAt kind\n          student { id fullName }\n          iep { id }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription WebGenerationEvents($id: ID!, $afterSeq: Int) {\n    generationEvents(id: $id, afterSeq: $afterSeq) { seq status stage progress message textDelta at }\n  }\n"): (typeof documents)["\n  subscription WebGenerationEvents($id: ID!, $afterSeq: Int) {\n    generationEvents(id: $id, afterSeq: $afterSeq) { seq status stage progress message textDelta at }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation WebCancel($id: ID!) {\n    cancelGeneration(id: $id) {\n      __typename\n      ... on CancelGenerationSuccess { generation { id status } }\n      ... on Error { message }\n    }\n  }\n"): (typeof documents)["\n  mutation WebCancel($id: ID!) {\n    cancelGeneration(id: $id) {\n      __typename\n      ... on CancelGenerationSuccess { generation { id status } }\n      ... on Error { message }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation WebRetry($id: ID!) {\n    retryGeneration(id: $id) {\n      __typename\n      ... on GenerateIepSuccess { generation { id status stage progress message queuePosition estimatedCompletionAt lastSeq } }\n      ... on Error { message }\n    }\n  }\n"): (typeof documents)["\n  mutation WebRetry($id: ID!) {\n    retryGeneration(id: $id) {\n      __typename\n      ... on GenerateIepSuccess { generation { id status stage progress message queuePosition estimatedCompletionAt lastSeq } }\n      ... on Error { message }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query WebIep($id: ID!) {\n    iep(id: $id) {\n      id version revision status academicYear model createdAt\n      meetingDate effectiveDate annualReviewDate\n      printUrl submittedAt submittedBy { id name } approvedAt approvedBy { id name }\n      content\n      template { id version extraItems { key label section } }\n      student { id fullName }\n      versions { id version status }\n      diff { kind change changedPaths }\n      sections {\n        id kind label content missingCitations\n        provenance { source model promptVersion editedAt editedBy { id name } changedPaths }\n        citations { chunkId missing chunk { id ordinal page text evidence { id title kind } } }\n      }\n    }\n  }\n"): (typeof documents)["\n  query WebIep($id: ID!) {\n    iep(id: $id) {\n      id version revision status academicYear model createdAt\n      meetingDate effectiveDate annualReviewDate\n      printUrl submittedAt submittedBy { id name } approvedAt approvedBy { id name }\n      content\n      template { id version extraItems { key label section } }\n      student { id fullName }\n      versions { id version status }\n      diff { kind change changedPaths }\n      sections {\n        id kind label content missingCitations\n        provenance { source model promptVersion editedAt editedBy { id name } changedPaths }\n        citations { chunkId missing chunk { id ordinal page text evidence { id title kind } } }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query WebPrintUrl($id: ID!) {\n    iep(id: $id) { id printUrl }\n  }\n"): (typeof documents)["\n  query WebPrintUrl($id: ID!) {\n    iep(id: $id) { id printUrl }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query WebTemplates {\n    iepTemplates { id name isDefault }\n  }\n"): (typeof documents)["\n  query WebTemplates {\n    iepTemplates { id name isDefault }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation WebEditSection($input: EditIepSectionInput!) {\n    editIepSection(input: $input) {\n      __typename\n      ... on EditIepSectionSuccess { iep { id } }\n      ... on ValidationError { message fieldErrors { path message } }\n      ... on Error { message }\n    }\n  }\n"): (typeof documents)["\n  mutation WebEditSection($input: EditIepSectionInput!) {\n    editIepSection(input: $input) {\n      __typename\n      ... on EditIepSectionSuccess { iep { id } }\n      ... on ValidationError { message fieldErrors { path message } }\n      ... on Error { message }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation WebSubmitForReview($id: ID!) {\n    submitIepForReview(id: $id) {\n      __typename\n      ... on IepReviewSuccess { iep { id status } }\n      ... on Error { message }\n    }\n  }\n"): (typeof documents)["\n  mutation WebSubmitForReview($id: ID!) {\n    submitIepForReview(id: $id) {\n      __typename\n      ... on IepReviewSuccess { iep { id status } }\n      ... on Error { message }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation WebApprove($id: ID!) {\n    approveIep(id: $id) {\n      __typename\n      ... on IepReviewSuccess { iep { id status } }\n      ... on Error { message }\n    }\n  }\n"): (typeof documents)["\n  mutation WebApprove($id: ID!) {\n    approveIep(id: $id) {\n      __typename\n      ... on IepReviewSuccess { iep { id status } }\n      ... on Error { message }\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;