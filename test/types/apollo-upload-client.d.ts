/** apollo-upload-client 20 ships JavaScript only: the part of its API the client test uses. */
declare module "apollo-upload-client/UploadHttpLink.mjs" {
  import { ApolloLink } from "@apollo/client";

  /** An HttpLink that sends operations whose variables hold files as GraphQL multipart requests. */
  export default class UploadHttpLink extends ApolloLink {
    constructor(options?: { uri?: string; headers?: Record<string, string> });
  }
}
