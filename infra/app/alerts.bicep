// Log search alerts and a workbook over the workspace-based Application Insights tables (AppRequests,
// AppDependencies, AppMetrics) that PIM Warden's OpenTelemetry spans and `pimwarden.*` metrics fill.
// The same queries, with what to do when each fires, are in docs/operations.md.

param workspaceId string
param location string
param tags object
@description('Minutes between enforcement ticks (PIMWARDEN_ENFORCE_SCHEDULE); the alert allows two.')
param enforceIntervalMinutes int = 15
@description('Repairs of the same drift on one app in a day above which someone keeps undoing it.')
param driftRepairsPerDay int = 3
@description('Graph 429 answers in 15 minutes above which throttling needs attention.')
param throttledPer15Minutes int = 20
@description('Action group to notify (resource id); empty: alerts show in the portal only.')
param actionGroupId string = ''

var enforcementStale = '''
AppMetrics
| where Name == "pimwarden.enforce.duration"
| project TimeGenerated, Runs = ItemCount
'''
var driftRepeated = '''
union AppRequests, AppDependencies
| where Name == "pimwarden.reconcile"
| extend App = tostring(Properties["pimwarden.app.id"])
| mv-expand Kind = split(tostring(Properties["pimwarden.drift_repaired"]), ",") to typeof(string)
| where isnotempty(Kind)
| summarize Repairs = count() by App, Kind
'''
var throttling = '''
AppMetrics
| where Name == "pimwarden.graph.throttled"
| summarize Throttled = sum(Sum) by bin(TimeGenerated, 15m)
'''
var collectorLag = '''
AppMetrics
| where Name == "pimwarden.collector.lag"
| summarize LagSeconds = max(Max) by bin(TimeGenerated, 15m)
'''
var reconcilePoisoned = '''
AppMetrics
| where Name == "pimwarden.reconcile.poisoned"
| summarize Poisoned = sum(Sum) by bin(TimeGenerated, 1h)
'''
var webhook5xx = '''
AppRequests
| where isnotempty(Properties["pimwarden.webhook.source"]) or Url has "/api/tickets/"
| where toint(ResultCode) >= 500
| project TimeGenerated, Name, ResultCode, OperationId
'''

var rules = [
  {
    name: 'enforcement-stale'
    title: 'PIM Warden: enforcement has not completed for two schedule intervals'
    severity: 1
    query: enforcementStale
    frequency: 'PT${enforceIntervalMinutes}M'
    window: 'PT${2 * enforceIntervalMinutes}M'
    aggregation: 'Count'
    measure: null
    operator: 'LessThan'
    threshold: 1
    dimensions: []
  }
  {
    name: 'drift-repeated'
    title: 'PIM Warden: the same drift repaired again and again on one app'
    severity: 2
    query: driftRepeated
    frequency: 'PT1H'
    window: 'P1D'
    aggregation: 'Maximum'
    measure: 'Repairs'
    operator: 'GreaterThan'
    threshold: driftRepairsPerDay
    dimensions: ['App', 'Kind']
  }
  {
    name: 'graph-throttling'
    title: 'PIM Warden: Microsoft Graph is throttling'
    severity: 2
    query: throttling
    frequency: 'PT15M'
    window: 'PT15M'
    aggregation: 'Total'
    measure: 'Throttled'
    operator: 'GreaterThan'
    threshold: throttledPer15Minutes
    dimensions: []
  }
  {
    name: 'collector-lag'
    title: 'PIM Warden: the compliance collector is more than an hour behind'
    severity: 2
    query: collectorLag
    frequency: 'PT15M'
    window: 'PT1H'
    aggregation: 'Maximum'
    measure: 'LagSeconds'
    operator: 'GreaterThan'
    threshold: 3600
    dimensions: []
  }
  {
    name: 'reconcile-poisoned'
    title: 'PIM Warden: the reconcile queue gave up on a message'
    severity: 2
    query: reconcilePoisoned
    frequency: 'PT1H'
    window: 'PT1H'
    aggregation: 'Total'
    measure: 'Poisoned'
    operator: 'GreaterThan'
    threshold: 0
    dimensions: []
  }
  {
    name: 'webhook-5xx'
    title: 'PIM Warden: a ticket webhook answered 5xx'
    severity: 1
    query: webhook5xx
    frequency: 'PT5M'
    window: 'PT5M'
    aggregation: 'Count'
    measure: null
    operator: 'GreaterThan'
    threshold: 0
    dimensions: []
  }
]

resource alerts 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [for rule in rules: {
  name: 'pimwarden-${rule.name}'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: rule.title
    description: 'Runbook: docs/operations.md#${rule.name}'
    severity: rule.severity
    enabled: true
    scopes: [workspaceId]
    evaluationFrequency: rule.frequency
    windowSize: rule.window
    autoMitigate: true
    criteria: {
      allOf: [
        {
          query: rule.query
          timeAggregation: rule.aggregation
          metricMeasureColumn: rule.measure
          operator: rule.operator
          threshold: rule.threshold
          dimensions: [for d in rule.dimensions: {
            name: d
            operator: 'Include'
            values: ['*']
          }]
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: empty(actionGroupId) ? [] : [actionGroupId]
    }
  }
}]

var workbookQueries = [
  {
    title: 'Enforcement runs (duration, seconds)'
    query: 'AppMetrics | where Name == "pimwarden.enforce.duration" | summarize Runs = sum(ItemCount), AvgSeconds = sum(Sum) / sum(ItemCount) by bin(TimeGenerated, 1h)'
  }
  {
    title: 'Apps by status'
    query: 'AppMetrics | where Name == "pimwarden.apps" | summarize arg_max(TimeGenerated, Max) by Status = tostring(Properties["pimwarden.status"])'
  }
  {
    title: 'Drift found and repaired by kind'
    query: 'AppMetrics | where Name in ("pimwarden.drift.found", "pimwarden.drift.repaired") | summarize Count = sum(Sum) by Name, Kind = tostring(Properties["pimwarden.kind"]), bin(TimeGenerated, 1d)'
  }
  {
    title: 'Graph requests, writes, throttled, failed'
    query: 'AppMetrics | where Name in ("pimwarden.graph.requests", "pimwarden.graph.writes", "pimwarden.graph.throttled", "pimwarden.graph.failed") | summarize Count = sum(Sum) by Name, bin(TimeGenerated, 1h)'
  }
  {
    title: 'Webhook deliveries by source and outcome'
    query: 'AppMetrics | where Name == "pimwarden.webhook.deliveries" | summarize Count = sum(Sum) by Source = tostring(Properties["pimwarden.source"]), Outcome = tostring(Properties["pimwarden.outcome"])'
  }
  {
    title: 'Ticket to PIM eligibility (seconds)'
    query: 'AppMetrics | where Name == "pimwarden.grant.latency" | summarize Grants = sum(ItemCount), AvgSeconds = sum(Sum) / sum(ItemCount), MaxSeconds = max(Max) by bin(TimeGenerated, 1d)'
  }
  {
    title: 'Collector lag (seconds) and report rows served'
    query: 'AppMetrics | where Name in ("pimwarden.collector.lag", "pimwarden.report.rows") | summarize Value = max(Max), Total = sum(Sum) by Name, bin(TimeGenerated, 1h)'
  }
  {
    title: 'Failed app reconciles'
    query: 'union AppRequests, AppDependencies | where Name == "pimwarden.reconcile" and tostring(Properties["pimwarden.outcome"]) in ("failed", "deferred") | project TimeGenerated, App = tostring(Properties["pimwarden.app.id"]), Outcome = tostring(Properties["pimwarden.outcome"]), OperationId'
  }
]

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(workspaceId, 'pimwarden-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: 'PIM Warden'
    category: 'workbook'
    sourceId: workspaceId
    serializedData: string({
      version: 'Notebook/1.0'
      items: [for (item, i) in workbookQueries: {
        type: 3
        name: 'query-${i}'
        content: {
          version: 'KqlItem/1.0'
          title: item.title
          query: item.query
          queryType: 0
          resourceType: 'microsoft.operationalinsights/workspaces'
          visualization: 'table'
          timeContext: {
            durationMs: 604800000
          }
        }
      }]
    })
  }
}

output alertNames array = [for (rule, i) in rules: alerts[i].name]
