/** `GET /projects/:id` and `GET /projects/:id/repository/commits/:sha`. */
import { ERRORS, json } from '../../http.js';
import type { Reply } from '../../http.js';
import type { RequestContext } from '../context.js';
import type { GitlabV4Deps, V4Lookup } from './lookup.js';
import { isReply } from './params.js';

export function v4ProjectHandlers({ entities }: GitlabV4Deps, { projectFor }: V4Lookup) {
  function getProject(ctx: RequestContext): Reply {
    const project = projectFor(ctx, 'read');
    return isReply(project) ? project : json(200, entities.project(project));
  }

  /** A full sha, a branch or tag name, or an unambiguous sha prefix (7+ hex digits), as GitLab resolves them. */
  function getCommit(ctx: RequestContext): Reply {
    const project = projectFor(ctx, 'read');
    if (isReply(project)) return project;
    const wanted = ctx.params.sha ?? '';
    let commit = project.commits.get(wanted) ?? project.refHeads.get(wanted);
    if (!commit && /^[0-9a-f]{7,39}$/.test(wanted)) {
      const found = [...project.commits.values()].filter((c) => c.sha.startsWith(wanted));
      if (found.length === 1) commit = found[0];
    }
    return commit ? json(200, entities.commitDetail(commit)) : ERRORS.commitNotFound;
  }

  return { getProject, getCommit };
}
