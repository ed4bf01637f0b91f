import { RequestError } from "octokit";

/** The RequestError a request fails with (Octokit throws one for every status it does not count as success, 304 included). */
export async function requestFailure(request: Promise<unknown>): Promise<RequestError> {
  try {
    await request;
  } catch (error) {
    if (error instanceof RequestError) return error;
    throw error;
  }
  throw new Error("expected the request to fail");
}
