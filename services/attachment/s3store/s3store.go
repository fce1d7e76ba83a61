// Package s3store keeps attachments in an Amazon S3 bucket, the attachment store in AWS
// (PORTICO_ATTACHMENT_STORE=s3:<bucket>).
//
// An attachment is the object <owner>/<conversation>/<name>, the segments of
// [attachment.Key.Segments]: the owner as the base64url SHA-256 of the subject (a key never
// reveals who owns it), the conversation id and name from a strict character set, so no
// caller string reaches a key unchecked and one conversation's keys are exactly those under
// the prefix <owner>/<conversation>/. Objects are encrypted by the bucket's default
// encryption (SSE-KMS with the deployment's key, set by the CDK app); the code names no key.
//
// DeleteConversation lists the conversation's prefix a page at a time (at most 1,000 keys)
// and deletes each page with one DeleteObjects call. The IAM it needs: s3:GetObject,
// s3:PutObject and s3:DeleteObject on the bucket's objects, s3:ListBucket on the bucket, and
// kms:Encrypt, kms:Decrypt and kms:GenerateDataKey on its key.
package s3store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/portico-dev/portico/services/attachment"
)

// Store is a bucket of attachments. It is safe for concurrent use.
type Store struct {
	client   *s3.Client
	bucket   string
	pageSize int32 // keys listed per page by DeleteConversation; 0: S3's default (1,000)
}

var _ attachment.Store = (*Store)(nil)

// New returns the store in bucket, called through client.
func New(client *s3.Client, bucket string) *Store {
	return &Store{client: client, bucket: bucket}
}

// Put stores data under key, replacing what was there.
func (s *Store) Put(ctx context.Context, key attachment.Key, contentType string, data []byte) error {
	k, err := objectKey(key)
	if err != nil {
		return err
	}
	if err := attachment.CheckContentType(contentType); err != nil {
		return err
	}
	_, err = s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(s.bucket),
		Key:           aws.String(k),
		Body:          bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))),
		ContentType:   aws.String(contentType),
	})
	if err != nil {
		return unavailable("put", err)
	}
	return nil
}

// Get returns the attachment under key, or an error matching attachment.ErrNotFound.
func (s *Store) Get(ctx context.Context, key attachment.Key) (attachment.Object, error) {
	k, err := objectKey(key)
	if err != nil {
		return attachment.Object{}, err
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(k)})
	if err != nil {
		if notFound(err) {
			return attachment.Object{}, attachment.ErrNotFound
		}
		return attachment.Object{}, unavailable("get", err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		return attachment.Object{}, unavailable("get", err)
	}
	return attachment.Object{ContentType: aws.ToString(out.ContentType), Data: data}, nil
}

// DeleteConversation deletes every object under the prefix of the owner's conversation, a
// listed page at a time.
func (s *Store) DeleteConversation(ctx context.Context, owner, conversation string) error {
	o, conv, err := attachment.ConversationSegments(owner, conversation)
	if err != nil {
		return err
	}
	pages := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket: aws.String(s.bucket),
		Prefix: aws.String(o + "/" + conv + "/"),
		MaxKeys: func() *int32 {
			if s.pageSize > 0 {
				return aws.Int32(s.pageSize)
			}
			return nil
		}(),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return unavailable("list", err)
		}
		if len(page.Contents) == 0 {
			continue
		}
		ids := make([]types.ObjectIdentifier, 0, len(page.Contents))
		for _, obj := range page.Contents {
			ids = append(ids, types.ObjectIdentifier{Key: obj.Key})
		}
		out, err := s.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: aws.String(s.bucket),
			Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)},
		})
		if err != nil {
			return unavailable("delete", err)
		}
		if len(out.Errors) > 0 {
			e := out.Errors[0]
			return unavailable("delete", fmt.Errorf("%d of %d objects not deleted, first: %s %s",
				len(out.Errors), len(ids), aws.ToString(e.Code), aws.ToString(e.Message)))
		}
	}
	return nil
}

// objectKey returns the object key of an attachment, or an error matching
// attachment.ErrInvalid.
func objectKey(key attachment.Key) (string, error) {
	owner, conv, name, err := key.Segments()
	if err != nil {
		return "", err
	}
	return owner + "/" + conv + "/" + name, nil
}

// notFound tells S3's answer for a missing object: NoSuchKey, or a 404 without a body (as
// some S3-compatible servers answer).
func notFound(err error) bool {
	var nsk *types.NoSuchKey
	if errors.As(err, &nsk) {
		return true
	}
	var api smithy.APIError
	if errors.As(err, &api) && api.ErrorCode() == "NoSuchKey" {
		return true
	}
	var resp *smithyhttp.ResponseError
	return errors.As(err, &resp) && resp.HTTPStatusCode() == http.StatusNotFound &&
		!(errors.As(err, &api) && api.ErrorCode() == "NoSuchBucket")
}

// unavailable wraps an S3 error with attachment.ErrUnavailable. The SDK's message names the
// operation, the bucket is the operator's and the key holds no subject, so it is safe to log.
func unavailable(op string, err error) error {
	return fmt.Errorf("%w: %s: %w", attachment.ErrUnavailable, op, err)
}
