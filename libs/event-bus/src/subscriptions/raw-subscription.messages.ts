export const NO_RAW_STREAMS = (group: string): string =>
  `raw subscription of group ${group} names no streams: pass at least one in { streams }`;
export const GROUP_TAKEN = (group: string, by: string): string =>
  `consumer group ${group} is already consumed in this process (${by}): a group has one raw subscription or one set of @Subscribe handlers per process; use another group name`;
