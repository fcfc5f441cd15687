// A stand-in for the part of GitHub's REST API the workflows call, on loopback: deployments and
// their statuses (release.yml records each release and reads the environment before it),
// pull-request comments (preview.yml) and issues (drift.yml). It keeps what it is told in memory,
// answers the same shapes GitHub does for these calls, refuses a request without the run's
// token, and records every call for tests to read. What it does not model: token permissions per
// job, pagination beyond `per_page`, and everything else GitHub's API has.
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export interface Deployment {
  id: number;
  ref: string;
  sha: string;
  environment: string;
  task: string;
  payload: unknown;
  description: string | null;
  created_at: string;
  statuses: { id: number; state: string; environment_url?: string; created_at: string }[];
}

export interface Comment {
  id: number;
  issue: number;
  body: string;
}

export interface Issue {
  number: number;
  title: string;
  body: string;
  state: "open" | "closed";
  labels: string[];
}

export interface Call {
  method: string;
  path: string;
  body?: unknown;
}

export interface GithubApi {
  /** Base URL, as GITHUB_API_URL. */
  url: string;
  calls: Call[];
  deployments: Deployment[];
  comments: Comment[];
  issues: Issue[];
  close(): Promise<void>;
}

type Handler = (match: RegExpExecArray, body: Record<string, unknown>, query: URLSearchParams) => [number, unknown];

export async function startGithubApi(options: { repository: string; token: string }): Promise<GithubApi> {
  const state = {
    deployments: [] as Deployment[],
    comments: [] as Comment[],
    issues: [] as Issue[],
    calls: [] as Call[],
  };
  let nextId = 1000;
  // Pull requests and issues share GitHub's numbering; pull requests here are numbered by tests.
  let nextIssue = 100;
  const now = () => new Date().toISOString();
  const limit = (query: URLSearchParams) => Number(query.get("per_page") ?? 30);
  const deployment = (id: string) => state.deployments.find((d) => d.id === Number(id));
  const view = ({ statuses: _statuses, ...d }: Deployment) => d;

  const routes: [string, RegExp, Handler][] = [
    [
      "POST",
      /^\/deployments$/,
      (_, body) => {
        const ref = String(body.ref);
        const created: Deployment = {
          id: nextId++,
          ref,
          sha: ref,
          environment: typeof body.environment === "string" ? body.environment : "production",
          task: typeof body.task === "string" ? body.task : "deploy",
          payload: body.payload ?? {},
          description: typeof body.description === "string" ? body.description : null,
          created_at: now(),
          statuses: [],
        };
        state.deployments.push(created);
        return [201, view(created)];
      },
    ],
    [
      "GET",
      /^\/deployments$/,
      (_, __, query) => {
        const matches = state.deployments
          .filter((d) =>
            ["environment", "sha", "task", "ref"].every((key) => !query.has(key) || d[key as "sha"] === query.get(key)),
          )
          .reverse();
        return [200, matches.slice(0, limit(query)).map(view)];
      },
    ],
    [
      "POST",
      /^\/deployments\/(\d+)\/statuses$/,
      ([, id], body) => {
        const found = deployment(id);
        if (!found) {
          return [404, { message: "Not Found" }];
        }
        const status = {
          id: nextId++,
          state: String(body.state),
          ...(typeof body.environment_url === "string" ? { environment_url: body.environment_url } : {}),
          created_at: now(),
        };
        found.statuses.push(status);
        return [201, status];
      },
    ],
    [
      "GET",
      /^\/deployments\/(\d+)\/statuses$/,
      ([, id], _, query) => {
        const found = deployment(id);
        return found ? [200, [...found.statuses].reverse().slice(0, limit(query))] : [404, { message: "Not Found" }];
      },
    ],
    [
      "GET",
      /^\/issues\/(\d+)\/comments$/,
      ([, issue], _, query) => [200, state.comments.filter((c) => c.issue === Number(issue)).slice(0, limit(query))],
    ],
    [
      "POST",
      /^\/issues\/(\d+)\/comments$/,
      ([, issue], body) => {
        const comment = { id: nextId++, issue: Number(issue), body: String(body.body) };
        state.comments.push(comment);
        return [201, comment];
      },
    ],
    [
      "PATCH",
      /^\/issues\/comments\/(\d+)$/,
      ([, id], body) => {
        const comment = state.comments.find((c) => c.id === Number(id));
        if (!comment) {
          return [404, { message: "Not Found" }];
        }
        comment.body = String(body.body);
        return [200, comment];
      },
    ],
    [
      "GET",
      /^\/issues$/,
      (_, __, query) => {
        const labels = (query.get("labels") ?? "").split(",").filter(Boolean);
        const wanted = query.get("state") ?? "open";
        const matches = state.issues.filter(
          (i) => (wanted === "all" || i.state === wanted) && labels.every((l) => i.labels.includes(l)),
        );
        return [200, matches.slice(0, limit(query))];
      },
    ],
    [
      "POST",
      /^\/issues$/,
      (_, body) => {
        const issue: Issue = {
          number: nextIssue++,
          title: String(body.title),
          body: typeof body.body === "string" ? body.body : "",
          state: "open",
          labels: Array.isArray(body.labels) ? body.labels.map(String) : [],
        };
        state.issues.push(issue);
        return [201, issue];
      },
    ],
    [
      "PATCH",
      /^\/issues\/(\d+)$/,
      ([, number], body) => {
        const issue = state.issues.find((i) => i.number === Number(number));
        if (!issue) {
          return [404, { message: "Not Found" }];
        }
        Object.assign(issue, {
          ...(typeof body.title === "string" ? { title: body.title } : {}),
          ...(typeof body.body === "string" ? { body: body.body } : {}),
          ...(body.state === "open" || body.state === "closed" ? { state: body.state } : {}),
        });
        return [200, issue];
      },
    ],
  ];

  const prefix = `/repos/${options.repository}`;
  const server = http.createServer((req, res) => {
    let text = "";
    req.on("data", (chunk: Buffer) => (text += chunk.toString()));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://localhost");
      const body = text === "" ? {} : (JSON.parse(text) as Record<string, unknown>);
      state.calls.push({ method: req.method ?? "", path: url.pathname + url.search, ...(text ? { body } : {}) });
      const answer = (status: number, value: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(value));
      };
      if (req.headers.authorization !== `Bearer ${options.token}`) {
        answer(401, { message: "Bad credentials" });
        return;
      }
      if (!url.pathname.startsWith(`${prefix}/`)) {
        answer(404, { message: "Not Found" });
        return;
      }
      const local = url.pathname.slice(prefix.length);
      for (const [method, pattern, handler] of routes) {
        const match = pattern.exec(local);
        if (match && method === req.method) {
          answer(...handler(match, body, url.searchParams));
          return;
        }
      }
      answer(404, { message: "Not Found" });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    ...state,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
