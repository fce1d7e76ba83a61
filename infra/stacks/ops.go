package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawscloudwatch"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Custom metrics. The services publish UpstreamThrottles in CloudWatch Embedded Metric Format
// (services/metering/emf.go: namespace Portico, dimension sets [Model] and [Model, Outcome],
// no dimensionless set); the access-log metric filter publishes AuthorizerDenials.
const (
	MetricNamespace         = "Portico"
	MetricUpstreamThrottles = "UpstreamThrottles"
	MetricAuthorizerDenials = "AuthorizerDenials"
)

// UpstreamThrottlesQuery sums UpstreamThrottles over every model: a Metrics Insights query on
// the [Model] dimension set only (SCHEMA with exactly those keys), so the [Model, Outcome]
// copies of the same observations are not counted twice, and no alarm waits for a
// dimensionless metric the services never publish.
const UpstreamThrottlesQuery = "SELECT SUM(" + MetricUpstreamThrottles + ") FROM SCHEMA(" + MetricNamespace + ", Model)"

// ops holds the alarm topic, the alarms and the dashboard.
type ops struct {
	topic     awssns.Topic
	alarms    []awscloudwatch.Alarm
	dashboard awscloudwatch.Dashboard
}

func (e *env) newOps(scope constructs.Construct, svc *services, a *api, w *web) *ops {
	c := constructs.NewConstruct(scope, jsii.String("Operations"))
	cfg := e.cfg
	o := &ops{}
	o.topic = awssns.NewTopic(c, jsii.String("Alarms"), &awssns.TopicProps{
		TopicName:  jsii.String(cfg.Name("alarms")),
		MasterKey:  e.key,
		EnforceSSL: jsii.Bool(true),
	})
	o.topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(cfg.AlarmEmail), nil))
	action := awscloudwatchactions.NewSnsAction(o.topic)
	five := awscdk.Duration_Minutes(jsii.Number(5))

	alarm := func(id, name, desc string, m awscloudwatch.IMetric, threshold float64) {
		al := awscloudwatch.NewAlarm(c, jsii.String(id), &awscloudwatch.AlarmProps{
			AlarmName:          jsii.String(cfg.Name(name)),
			AlarmDescription:   jsii.String(desc),
			Metric:             m,
			Threshold:          jsii.Number(threshold),
			EvaluationPeriods:  jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		al.AddAlarmAction(action)
		al.AddOkAction(action)
		o.alarms = append(o.alarms, al)
	}
	sum := &awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: five}

	alarm("Api5xx", "api-5xx", "API Gateway answered 5xx at least 5 times in 5 minutes.", a.rest.MetricServerError(sum), 5)

	// Authorizer denials: 401/403 lines of the access log, counted by a metric filter.
	awslogs.NewMetricFilter(c, jsii.String("DenialsFilter"), &awslogs.MetricFilterProps{
		LogGroup:        a.accessLog,
		FilterPattern:   awslogs.FilterPattern_Any(awslogs.FilterPattern_StringValue(jsii.String("$.status"), jsii.String("="), jsii.String("401")), awslogs.FilterPattern_StringValue(jsii.String("$.status"), jsii.String("="), jsii.String("403"))),
		MetricNamespace: jsii.String(MetricNamespace),
		MetricName:      jsii.String(MetricAuthorizerDenials),
		MetricValue:     jsii.String("1"),
		DefaultValue:    jsii.Number(0),
	})
	denials := awscloudwatch.NewMetric(&awscloudwatch.MetricProps{Namespace: jsii.String(MetricNamespace), MetricName: jsii.String(MetricAuthorizerDenials), Statistic: jsii.String("Sum"), Period: five})
	alarm("AuthorizerDenials", "authorizer-denials", "A spike of 401/403 answers (bad or stolen tokens, missing groups): at least 50 in 5 minutes.", denials, 50)

	throttles := awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression: jsii.String(UpstreamThrottlesQuery),
		Label:      jsii.String(MetricUpstreamThrottles),
		Period:     five,
	})
	alarm("UpstreamThrottles", "bedrock-throttles", "Bedrock or SageMaker throttled Portico at least 10 times in 5 minutes (raise quotas or move to a profile).", throttles, 10)

	fns := append(svc.all(), svc.authorizer, w.bff)
	var errWidgets, durWidgets []awscloudwatch.IMetric
	for _, g := range fns {
		id := g.name[len("portico-"+cfg.Env+"-"):]
		alarm("Errors"+id, id+"-errors", "Lambda "+g.name+" failed at least 5 invocations in 5 minutes.", g.fn.MetricErrors(sum), 5)
		alarm("Throttles"+id, id+"-throttles", "Lambda "+g.name+" was throttled (concurrency) in the last 5 minutes.", g.fn.MetricThrottles(sum), 1)
		errWidgets = append(errWidgets, g.fn.MetricErrors(sum))
		durWidgets = append(durWidgets, g.fn.MetricDuration(&awscloudwatch.MetricOptions{Statistic: jsii.String("p99"), Period: five}))
	}

	o.dashboard = awscloudwatch.NewDashboard(c, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DashboardName: jsii.String(cfg.Name("overview")),
		Widgets: &[]*[]awscloudwatch.IWidget{
			{
				awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{Title: jsii.String("API requests and errors"), Width: jsii.Number(12),
					Left: &[]awscloudwatch.IMetric{a.rest.MetricCount(sum), a.rest.MetricClientError(sum), a.rest.MetricServerError(sum)}}),
				awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{Title: jsii.String("API latency p99"), Width: jsii.Number(12),
					Left: &[]awscloudwatch.IMetric{a.rest.MetricLatency(&awscloudwatch.MetricOptions{Statistic: jsii.String("p99"), Period: five}), a.rest.MetricIntegrationLatency(&awscloudwatch.MetricOptions{Statistic: jsii.String("p99"), Period: five})}}),
			},
			{
				awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{Title: jsii.String("Lambda errors"), Width: jsii.Number(12), Left: &errWidgets}),
				awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{Title: jsii.String("Lambda duration p99"), Width: jsii.Number(12), Left: &durWidgets}),
			},
			{
				awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{Title: jsii.String("Authorizer denials and upstream throttles"), Width: jsii.Number(12),
					Left: &[]awscloudwatch.IMetric{denials, throttles}}),
				awscloudwatch.NewAlarmStatusWidget(&awscloudwatch.AlarmStatusWidgetProps{Title: jsii.String("Alarms"), Width: jsii.Number(12), Alarms: alarmRefs(o.alarms)}),
			},
		},
	})
	return o
}

func alarmRefs(alarms []awscloudwatch.Alarm) *[]interfacesawscloudwatch.IAlarmRef {
	out := make([]interfacesawscloudwatch.IAlarmRef, len(alarms))
	for i, a := range alarms {
		out[i] = a
	}
	return &out
}
