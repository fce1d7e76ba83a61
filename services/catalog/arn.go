package catalog

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ARNs returns the IAM resource ARNs a caller in region needs to invoke the model the way
// it runs there (Route):
//
//   - on demand: arn:aws:bedrock:<region>::foundation-model/<id>
//   - through an inference profile: arn:aws:bedrock:<region>:<account>:inference-profile/<profile>,
//     plus the foundation-model ARN in every region the profile routes to (Bedrock checks
//     both); a global profile also needs the region-less arn:aws:bedrock:::foundation-model/<id>
//   - a SageMaker endpoint: arn:aws:sagemaker:<region>:<account>:endpoint/<name> (SageMaker
//     writes endpoint names in lower case in ARNs)
//
// It fails when the model cannot run from region. partition is "aws" unless region is a
// GovCloud or China region.
func (m Model) ARNs(region, account string) ([]string, error) {
	r, err := m.Route(region)
	if err != nil {
		return nil, err
	}
	p := partition(region)
	switch {
	case m.Kind == KindEndpoint:
		return []string{fmt.Sprintf("arn:%s:sagemaker:%s:%s:endpoint/%s", p, region, account, strings.ToLower(m.ID))}, nil
	case r.Profile == nil:
		return []string{foundationModelARN(region, m.FoundationModel)}, nil
	}
	out := []string{fmt.Sprintf("arn:%s:bedrock:%s:%s:inference-profile/%s", p, region, account, r.Profile.ID)}
	for _, dst := range r.Profile.Regions {
		out = append(out, foundationModelARN(dst, m.FoundationModel))
	}
	if r.Profile.Global() {
		out = append(out, fmt.Sprintf("arn:%s:bedrock:::foundation-model/%s", p, m.FoundationModel))
	}
	return out, nil
}

func foundationModelARN(region, id string) string {
	return fmt.Sprintf("arn:%s:bedrock:%s::foundation-model/%s", partition(region), region, id)
}

// IAMResources returns, sorted and without duplicates, the ARNs for bedrock:InvokeModel /
// bedrock:InvokeModelWithResponseStream (bedrock) and for sagemaker:InvokeEndpoint /
// sagemaker:InvokeEndpointWithResponseStream (sagemaker) covering every model in the
// catalog as it runs from region. It fails, naming every such model, when some model cannot
// run from region.
func (c *Catalog) IAMResources(region, account string) (bedrock, sagemaker []string, err error) {
	var errs []error
	for _, m := range c.models {
		arns, err := m.ARNs(region, account)
		switch {
		case err != nil:
			errs = append(errs, err)
		case m.Provider == ProviderSageMaker:
			sagemaker = append(sagemaker, arns...)
		default:
			bedrock = append(bedrock, arns...)
		}
	}
	if len(errs) > 0 {
		return nil, nil, fmt.Errorf("models that cannot run from %s: %w", region, errors.Join(errs...))
	}
	slices.Sort(bedrock)
	slices.Sort(sagemaker)
	return slices.Compact(bedrock), slices.Compact(sagemaker), nil
}

func partition(region string) string {
	switch {
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	default:
		return "aws"
	}
}
