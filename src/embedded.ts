/**
 * The upstreams `npm start` fronts when none is configured: the simulator's GitLab as v4 and v3 (one
 * instance, as GitLab 8.x–9.x served both) and its bk-ci, each with a service credential that may run
 * mutations, so GraphiQL works out of the box.
 */
export function embeddedUpstreams(simulatorUrl: string) {
  return [
    { name: 'gitlab', kind: 'gitlab-v4', baseUrl: `${simulatorUrl}/api/v4`, token: 'glpat-developer', exampleBuild: '7' },
    { name: 'gitlab-v3', kind: 'gitlab-v3', baseUrl: `${simulatorUrl}/api/v3`, token: 'glpat-developer' },
    {
      name: 'bkci',
      kind: 'bkci-apigw',
      baseUrl: `${simulatorUrl}/ms/openapi/api/apigw/v3`,
      token: 'alice',
      tokenHeader: 'X-DEVOPS-UID',
      exampleProject: 'demo',
    },
  ];
}
