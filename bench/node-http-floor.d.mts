import type { Agent } from "node:http";

/** See node-http-floor.mjs: the openai node:http floor, one call per `body`. */
export function nodeHttpFloor(url: string, key: string, agent: Agent): (body: object) => Promise<void>;
