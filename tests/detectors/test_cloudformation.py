"""CloudFormation detector: the QG-IAC rules on YAML (short-form tags) and JSON templates."""

from __future__ import annotations

import json
import textwrap

import pytest

from scanner.detectors.cloudformation import CloudFormationDetector
from scanner.model import FileKind, Finding, ScanError, Severity, Tier
from scanner.source import SourceFile
from tests.helpers import Located, detect, findings, located, parse_error, rule_ids, source


def template_file(text: str, path: str = "stack.yaml") -> SourceFile:
    template = source(textwrap.dedent(text), path)
    assert template.kind is FileKind.CLOUDFORMATION
    return template


def scan(text: str, path: str = "stack.yaml") -> list[Finding]:
    return findings(CloudFormationDetector(), template_file(text, path))


def refused(text: str, path: str = "stack.yaml") -> ScanError:
    """The parse error scanning ``text`` as ``path`` gives."""
    error = parse_error(detect(CloudFormationDetector(), template_file(text, path)))
    assert error.path == path
    return error


HEADER = 'AWSTemplateFormatVersion: "2010-09-09"\nResources:\n'

GOVERNED_BUCKET = """\
  ResultsBucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "amazon-braket-results-${AWS::AccountId}"
      BucketEncryption:
        ServerSideEncryptionConfiguration:
          - ServerSideEncryptionByDefault:
              SSEAlgorithm: aws:kms
              KMSMasterKeyID: !GetAtt ResultsKey.Arn
      PublicAccessBlockConfiguration:
        BlockPublicAcls: true
        BlockPublicPolicy: true
        IgnorePublicAcls: true
        RestrictPublicBuckets: true
      VersioningConfiguration:
        Status: Enabled
      LoggingConfiguration:
        DestinationBucketName: !Ref AccessLogs
      LifecycleConfiguration:
        Rules:
          - Status: Enabled
            ExpirationInDays: 365
      Tags:
        - Key: qgov:tier
          Value: regulated-pilot
  ResultsBucketPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref ResultsBucket
      PolicyDocument:
        Statement:
          - Sid: DenyInsecureTransport
            Effect: Deny
            Principal: "*"
            Action: "s3:*"
            Resource: !Sub "${ResultsBucket.Arn}/*"
            Condition:
              Bool:
                aws:SecureTransport: "false"
"""

TRAIL = """\
  Trail:
    Type: AWS::CloudTrail::Trail
    Properties:
      IsLogging: true
      S3BucketName: central-trail
      EnableLogFileValidation: true
"""


def test_governed_bucket_is_clean() -> None:
    assert scan(HEADER + GOVERNED_BUCKET + TRAIL) == []


def test_bucket_without_a_tls_only_policy() -> None:
    without_policy = GOVERNED_BUCKET[: GOVERNED_BUCKET.index("  ResultsBucketPolicy:")]
    found = [f for f in scan(HEADER + without_policy + TRAIL) if f.rule_id == "QG-IAC-017"]
    assert [(f.line, f.severity) for f in found] == [(3, Severity.MEDIUM)]


def _bucket(old: str, new: str) -> str:
    assert old in GOVERNED_BUCKET
    return HEADER + GOVERNED_BUCKET.replace(old, new) + TRAIL


# Lines of the bucket template: 3 ResultsBucket, 7 BucketEncryption, 10 SSEAlgorithm,
# 12 PublicAccessBlockConfiguration, 17 VersioningConfiguration, 18 its Status.
@pytest.mark.parametrize(
    ("rule", "template", "expected"),
    [
        # No BucketEncryption: S3 still encrypts with S3-managed keys, which the regulated
        # tier does not accept (and nothing says encryption is missing).
        ("QG-IAC-002", _bucket("      BucketEncryption:", "      Unused:"), [("QG-IAC-002", 3)]),
        ("QG-IAC-002", _bucket("SSEAlgorithm: aws:kms", "SSEAlgorithm: AES256"),
         [("QG-IAC-002", 10)]),
        ("QG-IAC-002", HEADER + GOVERNED_BUCKET + TRAIL, []),
        ("QG-IAC-003", _bucket("      VersioningConfiguration:",
                               "      AccessControl: PublicRead\n      VersioningConfiguration:"),
         [("QG-IAC-003", 17)]),  # the AccessControl line
        ("QG-IAC-004", _bucket("IgnorePublicAcls: true", "IgnorePublicAcls: false"),
         [("QG-IAC-004", 12)]),  # the incomplete block
        ("QG-IAC-004", _bucket("      PublicAccessBlockConfiguration:", "      Other:"),
         [("QG-IAC-004", 3)]),  # no block: the bucket
        ("QG-IAC-005", _bucket("Status: Enabled\n      Logging", "Status: Suspended\n      Logging"),
         [("QG-IAC-005", 18)]),
        ("QG-IAC-006", _bucket("      LoggingConfiguration:", "      Other:"), [("QG-IAC-006", 3)]),
        ("QG-IAC-019", _bucket("      LifecycleConfiguration:", "      Other:"),
         [("QG-IAC-019", 3)]),
        ("QG-IAC-013", HEADER + GOVERNED_BUCKET, [("QG-IAC-013", 3)]),
        *[(rule, HEADER + GOVERNED_BUCKET + TRAIL, []) for rule in (
            "QG-IAC-001", "QG-IAC-003", "QG-IAC-004", "QG-IAC-005", "QG-IAC-006", "QG-IAC-013",
            "QG-IAC-019")],
    ],
)
def test_bucket_rules(rule: str, template: str, expected: list[Located]) -> None:
    assert located(scan(template)) == expected, rule


PLAIN_BUCKET = HEADER + "  Data:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: data\n"


@pytest.mark.parametrize(
    ("configured", "template", "expected"),
    [
        (None, PLAIN_BUCKET, []),  # S3-managed keys by default, and no tier asks for more
        (Tier.INTERNAL_PILOT, PLAIN_BUCKET, []),
        (Tier.REGULATED_PILOT, PLAIN_BUCKET, [("QG-IAC-002", 3)]),
        (Tier.REGULATED_PILOT, PLAIN_BUCKET + "      Tags:\n        - Key: qgov:tier\n"
         "          Value: exploratory\n", []),  # the tag wins
    ],
)
def test_configured_tier_sets_requirements_of_untagged_buckets(
    configured: Tier | None, template: str, expected: list[Located]
) -> None:
    found = findings(CloudFormationDetector(tier=configured), template_file(template))
    assert located(f for f in found if f.rule_id in {"QG-IAC-001", "QG-IAC-002"}) == expected


POLICY = """\
  ResultsPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref ResultsBucket
      PolicyDocument:
        Statement:
          - Effect: Allow
            Principal: "*"
            Action: s3:GetObject
            Resource: !Sub "${ResultsBucket.Arn}/*"
"""


def test_bucket_policy_related_through_ref_is_public() -> None:
    template = HEADER + GOVERNED_BUCKET + TRAIL + POLICY
    found = [f for f in scan(template) if f.rule_id == "QG-IAC-003"]
    assert len(found) == 1
    assert found[0].severity is Severity.CRITICAL  # a Braket result bucket (name via !Sub)
    assert found[0].line == template.splitlines().index("          - Effect: Allow") + 1


def test_policy_for_another_bucket_does_not_count() -> None:
    template = HEADER + GOVERNED_BUCKET + TRAIL + (
        "  OtherPolicy:\n    Type: AWS::S3::BucketPolicy\n    Properties:\n"
        "      Bucket: other-bucket\n      PolicyDocument:\n        Statement:\n"
        '          - {Effect: Allow, Principal: "*", Action: "s3:GetObject", Resource: "*"}\n'
    )
    assert "QG-IAC-003" not in rule_ids(scan(template))


ROLE = """\
  JobRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {principal}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: jobs
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: {action}
                Resource: "*"
"""


def _role(principal: str = "{Service: braket.amazonaws.com}",
          action: str = "braket:CreateQuantumTask") -> str:
    return HEADER + ROLE.format(principal=principal, action=action) + TRAIL


# Lines of a _role() template: 3 JobRole, 6 AssumeRolePolicyDocument, 15 the policy statement.
# In the one-resource templates the resource is on line 3 and its Properties on line 5.
@pytest.mark.parametrize(
    ("rule", "template", "expected"),
    [
        # braket:* on the Braket job role is also a broad job-role policy
        ("QG-IAC-009", _role(action='"braket:*"'), [("QG-IAC-009", 15), ("QG-IAC-012", 3)]),
        ("QG-IAC-009", _role(action='["s3:GetObject", "braket:GetDevice"]'), []),
        ("QG-IAC-011", _role(principal='{AWS: "*"}'), [("QG-IAC-011", 6)]),
        ("QG-IAC-011", _role(principal="{AWS: !Sub 'arn:aws:iam::${AWS::AccountId}:root'}"), []),
        ("QG-IAC-012", _role(action='"*"'), [("QG-IAC-009", 15), ("QG-IAC-012", 3)]),
        # a wildcard policy, but not on a Braket job role
        ("QG-IAC-012", _role(principal="{Service: ec2.amazonaws.com}", action='"*"'),
         [("QG-IAC-009", 15)]),
        ("QG-IAC-012", _role(), []),
        ("QG-IAC-013", HEADER + ROLE.format(principal="{Service: braket.amazonaws.com}",
                                            action="braket:GetDevice"), [("QG-IAC-013", 3)]),
        ("QG-IAC-010", HEADER + "  Key:\n    Type: AWS::IAM::AccessKey\n    Properties:\n"
                                "      UserName: !Ref CiUser\n", [("QG-IAC-010", 3)]),
        ("QG-IAC-010", HEADER + "  CiUser:\n    Type: AWS::IAM::User\n    Properties:\n"
                                "      UserName: ci\n", []),
        ("QG-IAC-007", HEADER + "  K:\n    Type: AWS::KMS::Key\n    Properties:\n"
                                "      Description: x\n", [("QG-IAC-007", 5)]),
        ("QG-IAC-007", HEADER + "  K:\n    Type: AWS::KMS::Key\n    Properties:\n"
                                "      EnableKeyRotation: true\n", []),
        ("QG-IAC-008", HEADER + "  K:\n    Type: AWS::KMS::Key\n    Properties:\n"
                                "      EnableKeyRotation: true\n      KeyPolicy:\n"
                                "        Statement:\n          - Effect: Allow\n"
                                "            Principal: {AWS: arn:aws:iam::1:role/ops}\n"
                                '            Action: "kms:*"\n            Resource: "*"\n',
         [("QG-IAC-008", 9)]),  # the statement
        ("QG-IAC-008", HEADER + "  K:\n    Type: AWS::KMS::Key\n    Properties:\n"
                                "      EnableKeyRotation: true\n      KeyPolicy:\n"
                                "        Statement:\n          - Effect: Allow\n"
                                "            Principal: {AWS: arn:aws:iam::1:root}\n"
                                '            Action: "kms:*"\n            Resource: "*"\n', []),
        ("QG-IAC-014", HEADER + "  L:\n    Type: AWS::Logs::LogGroup\n    Properties:\n"
                                "      RetentionInDays: 30\n", [("QG-IAC-014", 6)]),
        ("QG-IAC-014", HEADER + "  L:\n    Type: AWS::Logs::LogGroup\n    Properties:\n"
                                "      RetentionInDays: 400\n", []),
        ("QG-IAC-015", HEADER + "  SG:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n"
                                "      SecurityGroupIngress:\n        - IpProtocol: tcp\n"
                                "          FromPort: 8888\n          ToPort: 8888\n"
                                "          CidrIp: 0.0.0.0/0\n",
         [("QG-IAC-015", 10), ("QG-IAC-024", 3)]),  # CidrIp; no SecurityGroupEgress: AWS default
        ("QG-IAC-015", HEADER + "  SG:\n    Type: AWS::EC2::SecurityGroupIngress\n"
                                "    Properties:\n      IpProtocol: -1\n"
                                "      CidrIpv6: ::/0\n", [("QG-IAC-015", 7)]),
        ("QG-IAC-015", HEADER + "  SG:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n"
                                "      SecurityGroupIngress:\n        - IpProtocol: tcp\n"
                                "          FromPort: 22\n          ToPort: 22\n"
                                "          CidrIp: 10.0.0.0/8\n"
                                "      SecurityGroupEgress:\n        - IpProtocol: tcp\n"
                                "          FromPort: 443\n          ToPort: 443\n"
                                "          CidrIp: 0.0.0.0/0\n", []),
        ("QG-IAC-016", HEADER + "  NB:\n    Type: AWS::SageMaker::NotebookInstance\n"
                                "    Properties:\n      InstanceType: ml.t3.medium\n",
         [("QG-IAC-016", 5), ("QG-IAC-025", 3)]),
        ("QG-IAC-016", HEADER + "  NB:\n    Type: AWS::SageMaker::NotebookInstance\n"
                                "    Properties:\n      DirectInternetAccess: Disabled\n"
                                "      RootAccess: Disabled\n", []),
        ("QG-IAC-016", HEADER + "  DB:\n    Type: AWS::RDS::DBInstance\n    Properties:\n"
                                '      PubliclyAccessible: "true"\n      StorageEncrypted: true\n',
         [("QG-IAC-016", 6)]),
    ],
)
def test_rules(rule: str, template: str, expected: list[Located]) -> None:
    assert located(scan(template)) == expected, rule


def test_managed_policy_referenced_with_ref_counts_for_the_braket_role() -> None:
    template = HEADER + TRAIL + """\
  AdminPolicy:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Statement:
          - {Effect: Allow, Action: "s3:*", Resource: "*"}
  JobRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - {Effect: Allow, Principal: {Service: braket.amazonaws.com}, Action: sts:AssumeRole}
      ManagedPolicyArns:
        - !Ref AdminPolicy
"""
    found = {f.rule_id: f for f in scan(template)}
    assert "QG-IAC-012" in found and "s3:*" in found["QG-IAC-012"].message


def test_exact_lines_in_yaml() -> None:
    template = textwrap.dedent("""\
        AWSTemplateFormatVersion: "2010-09-09"
        Resources:
          Key:
            Type: AWS::KMS::Key
            Properties:
              EnableKeyRotation: false
          Logs:
            Type: AWS::Logs::LogGroup
            Properties:
              RetentionInDays: 7
          Sg:
            Type: AWS::EC2::SecurityGroup
            Properties:
              SecurityGroupIngress:
                - IpProtocol: tcp
                  FromPort: 80
                  ToPort: 80
                  CidrIp: 0.0.0.0/0
        """)
    found = sorted((f.rule_id, f.line, f.severity) for f in scan(template))
    assert found == [
        ("QG-IAC-007", 6, Severity.MEDIUM),
        ("QG-IAC-014", 10, Severity.MEDIUM),
        ("QG-IAC-015", 18, Severity.MEDIUM),  # web port only: lowered explicitly
        ("QG-IAC-024", 11, Severity.INFO),  # AWS's default egress; no quantum workload here
    ]


def test_json_template_with_lines() -> None:
    document = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "PartnerRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {
                        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
                                       "Action": "sts:AssumeRole"}]
                    }
                },
            },
            "Key": {"Type": "AWS::IAM::AccessKey", "Properties": {"UserName": {"Ref": "U"}}},
        },
    }
    text = json.dumps(document, indent=2)
    lines = text.splitlines()
    found = {f.rule_id: f for f in scan(text, "partner.json")}
    assert found["QG-IAC-011"].line == next(
        i for i, line in enumerate(lines, 1) if '"AssumeRolePolicyDocument"' in line)
    assert found["QG-IAC-011"].severity is Severity.CRITICAL
    assert found["QG-IAC-010"].line == next(
        i for i, line in enumerate(lines, 1) if line.strip().startswith('"Key"'))
    assert "for U" in found["QG-IAC-010"].message


def test_invalid_json_template_is_a_parse_error() -> None:
    refused('{"AWSTemplateFormatVersion": "2010-09-09", "Resources": {', "t.json")


def test_template_without_resources_is_ignored() -> None:
    assert scan('AWSTemplateFormatVersion: "2010-09-09"\nDescription: empty\n') == []


@pytest.mark.parametrize("tag", ["!Rain::Embed file.txt", "!Include other.yaml", "!Foo bar"])
def test_unknown_tag_is_a_parse_error_for_the_file(tag: str) -> None:
    template = HEADER + f"  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      X: {tag}\n"
    error = refused(template)
    assert error.line == 6
    assert tag.split()[0] in error.message


def test_all_short_form_tags_are_known() -> None:
    template = HEADER + """\
  B:
    Type: AWS::S3::Bucket
    Condition: IsProd
    Properties:
      BucketName: !Join ["-", [!Ref Prefix, !Select [0, !Split [",", !Sub "a,b"]]]]
      Tags: !If [IsProd, [], !Ref AWS::NoValue]
      X: !FindInMap [M, !Ref AWS::Region, k]
      Y: !Base64 {"Fn::GetAtt": [R, Arn]}
      Z: !ImportValue shared
      W: !Equals [!Not [!Condition C], !And [!Or [true, false], true]]
      V: !GetAZs ""
      U: !Cidr [10.0.0.0/16, 4, 8]
      T: !Length [1, 2]
      S: !ToJsonString {a: 1}
      R: !GetAtt Role.Arn
      Q: !!str plain
"""
    assert "QG-IAC-004" in rule_ids(scan(template))


def test_unquoted_placeholders_are_a_parse_error() -> None:
    template = HEADER + "  B:\n    Type: AWS::S3::Bucket\n    Properties:\n" \
                        "      BucketName: {{ bucket_name }}\n"
    error = refused(template)
    assert "placeholders" in error.message
    assert error.line == 6


# --- conditions (Fn::If) and deploy-time values ----------------------------------------------

CONDITIONS = 'Conditions:\n  IsProd: !Equals [!Ref Env, prod]\n'


def test_conditional_ingress_and_policy_are_checked_in_both_branches() -> None:
    found = scan(HEADER.replace("Resources:\n", CONDITIONS + "Resources:\n") + """\
  Sg:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: runners
      SecurityGroupIngress:
        - !If
          - IsProd
          - {CidrIp: 0.0.0.0/0, IpProtocol: tcp, FromPort: 22, ToPort: 22}
          - !Ref AWS::NoValue
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - {Effect: Allow, Principal: {Service: ec2.amazonaws.com}, Action: sts:AssumeRole}
      Policies:
        - !If
          - IsProd
          - PolicyName: all
            PolicyDocument:
              Statement:
                - {Effect: Allow, Action: "*", Resource: "*"}
          - !Ref AWS::NoValue
""")
    assert {"QG-IAC-015", "QG-IAC-009"} <= rule_ids(found)


@pytest.mark.parametrize(
    "rotation", ["!If [IsProd, true, false]", "!Ref RotateKeys"],
)
def test_rotation_decided_at_deploy_time_is_not_claimed_false(rotation: str) -> None:
    found = scan(HEADER.replace("Resources:\n", CONDITIONS + "Resources:\n") + f"""\
  Key:
    Type: AWS::KMS::Key
    Properties:
      EnableKeyRotation: {rotation}
""")
    assert "QG-IAC-007" not in rule_ids(found)


def test_conditional_public_access_block_is_not_claimed_incomplete() -> None:
    bucket = GOVERNED_BUCKET.replace(
        "      PublicAccessBlockConfiguration:\n        BlockPublicAcls: true\n"
        "        BlockPublicPolicy: true\n        IgnorePublicAcls: true\n"
        "        RestrictPublicBuckets: true\n",
        "      PublicAccessBlockConfiguration: !If [IsProd, !Ref AWS::NoValue, "
        "{BlockPublicAcls: true}]\n",
    )
    assert "!If" in bucket
    found = scan(HEADER.replace("Resources:\n", CONDITIONS + "Resources:\n") + bucket + TRAIL)
    assert "QG-IAC-004" not in rule_ids(found)


# --- encryption at rest off beyond buckets (QG-IAC-001) ---------------------------------------


def _resource(resource_type: str, properties: str = "") -> str:
    """A template with one resource ``R`` (line 3, its properties from line 6)."""
    body = "    Properties:\n" + textwrap.indent(textwrap.dedent(properties), " " * 6) if (
        properties) else ""
    return HEADER + f"  R:\n    Type: {resource_type}\n" + body


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        (_resource("AWS::RDS::DBInstance", "Engine: postgres\nStorageEncrypted: false\n"),
         [("QG-IAC-001", 7)]),
        (_resource("AWS::RDS::DBInstance", "Engine: postgres\n"), [("QG-IAC-001", 3)]),
        (_resource("AWS::RDS::DBInstance", "Engine: postgres\nStorageEncrypted: true\n"), []),
        (_resource("AWS::RDS::DBInstance", "Engine: aurora-mysql\nDBClusterIdentifier: c\n"), []),
        (_resource("AWS::RDS::DBInstance", "StorageEncrypted: !If [IsProd, true, false]\n"), []),
        (_resource("AWS::RDS::DBCluster", "Engine: aurora-postgresql\nStorageEncrypted: false\n"),
         [("QG-IAC-001", 7)]),
        (_resource("AWS::RDS::DBCluster", "Engine: aurora-mysql\nEngineMode: serverless\n"), []),
        (_resource("AWS::Neptune::DBCluster", "StorageEncrypted: false\n"), [("QG-IAC-001", 6)]),
        (_resource("AWS::EC2::Volume", "Size: 100\n"), [("QG-IAC-001", 3)]),
        (_resource("AWS::EC2::Volume", "Size: 100\nEncrypted: false\n"), [("QG-IAC-001", 7)]),
        (_resource("AWS::EC2::Volume", "SnapshotId: snap-1\n"), []),
        (_resource("AWS::EC2::Volume", "Encrypted: true\n"), []),
        (_resource("AWS::OpenSearchService::Domain", "EncryptionAtRestOptions:\n  Enabled: false\n"),
         [("QG-IAC-001", 7)]),
        (_resource("AWS::Elasticsearch::Domain", "DomainName: results\n"), [("QG-IAC-001", 3)]),
        (_resource("AWS::OpenSearchService::Domain", "EncryptionAtRestOptions:\n  Enabled: true\n"),
         []),
    ],
)
def test_encryption_at_rest_off(template: str, expected: list[Located]) -> None:
    assert located(f for f in scan(template) if f.rule_id == "QG-IAC-001") == expected


def test_unencrypted_database_is_high_where_the_tier_is_regulated() -> None:
    template = _resource("AWS::RDS::DBInstance", "Engine: postgres\n")
    [plain] = scan(template)
    assert plain.severity is Severity.MEDIUM and "default false" in plain.message
    [regulated] = findings(CloudFormationDetector(tier=Tier.REGULATED_PILOT),
                           template_file(template))
    assert regulated.severity is Severity.HIGH


@pytest.mark.parametrize(
    ("properties", "expected"),
    [
        ("ResourcesVpcConfig:\n  SubnetIds: [subnet-1]\n", [("QG-IAC-016", 6)]),
        ("ResourcesVpcConfig:\n  EndpointPublicAccess: true\n  PublicAccessCidrs: [0.0.0.0/0]\n",
         [("QG-IAC-016", 8)]),
        ("ResourcesVpcConfig:\n  PublicAccessCidrs: [203.0.113.0/24]\n", []),
        ("ResourcesVpcConfig:\n  EndpointPublicAccess: false\n  EndpointPrivateAccess: true\n",
         []),
    ],
)
def test_public_eks_api_endpoint(properties: str, expected: list[Located]) -> None:
    assert located(scan(_resource("AWS::EKS::Cluster", properties))) == expected


# --- resource policies open to everyone (QG-IAC-003) ------------------------------------------


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        (_resource("AWS::SQS::QueuePolicy", """\
            Queues: [!Ref Jobs]
            PolicyDocument:
              Statement:
                - Effect: Allow
                  Principal: "*"
                  Action: sqs:SendMessage
            """), [("QG-IAC-003", 9)]),
        (_resource("AWS::SNS::TopicPolicy", """\
            Topics: [!Ref Done]
            PolicyDocument:
              Statement:
                - Effect: Allow
                  Principal: {AWS: "*"}
                  Action: sns:Publish
                  Condition: {ArnLike: {aws:SourceArn: !GetAtt Results.Arn}}
            """), []),
        (_resource("AWS::ECR::Repository", """\
            RepositoryPolicyText: '{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage"}]}'
            """), [("QG-IAC-003", 6)]),
        (_resource("AWS::OpenSearchService::Domain", """\
            EncryptionAtRestOptions: {Enabled: true}
            AccessPolicies:
              Statement:
                - Effect: Allow
                  Principal: {AWS: "*"}
                  Action: es:*
            """), [("QG-IAC-003", 9)]),
        (_resource("AWS::Lambda::Permission", """\
            Action: lambda:InvokeFunction
            FunctionName: !Ref Submit
            Principal: "*"
            """), [("QG-IAC-003", 8)]),
        (_resource("AWS::Lambda::Permission", """\
            Action: lambda:InvokeFunction
            FunctionName: !Ref Submit
            Principal: s3.amazonaws.com
            SourceArn: !GetAtt Results.Arn
            """), []),
    ],
)
def test_resource_policies_open_to_everyone(template: str, expected: list[Located]) -> None:
    assert located(scan(template)) == expected


# --- literal secrets (QG-IAC-021) ---------------------------------------------------------------

CFN_SECRET = "Qj0bs-Pr0d-" + "x7Kp2"


@pytest.mark.parametrize(
    ("template", "lines"),
    [
        (_resource("AWS::RDS::DBInstance", f"""\
            StorageEncrypted: true
            MasterUsername: admin
            MasterUserPassword: "{CFN_SECRET}"
            """), [8]),
        (_resource("AWS::Lambda::Function", f"""\
            Environment:
              Variables:
                QISKIT_IBM_CHANNEL: ibm_quantum_platform
                IONQ_API_KEY: "{CFN_SECRET}"
            """), [9]),
        (_resource("AWS::ECS::TaskDefinition", f"""\
            ContainerDefinitions:
              - Name: runner
                Environment:
                  - Name: DB_PASSWORD
                    Value: "{CFN_SECRET}"
                  - Name: SHOTS
                    Value: "4096"
            """), [10]),
        (HEADER.replace("Resources:\n", "Parameters:\n  DbPassword:\n    Type: String\n"
                        f"    NoEcho: true\n    Default: {CFN_SECRET}\nResources:\n")
         + "  Q:\n    Type: AWS::SQS::Queue\n", [6]),
        # references, dynamic references and settings that only mention a credential
        (_resource("AWS::RDS::DBInstance", """\
            StorageEncrypted: true
            MasterUserPassword: !Ref DbPassword
            """), []),
        (_resource("AWS::RDS::DBInstance", """\
            StorageEncrypted: true
            MasterUserPassword: "{{resolve:secretsmanager:qlab/db:SecretString:password}}"
            """), []),
        (_resource("AWS::SecretsManager::Secret", """\
            GenerateSecretString:
              SecretStringTemplate: '{"username": "admin"}'
              GenerateStringKey: password
              PasswordLength: 32
            """), []),
        (_resource("AWS::Cognito::UserPoolClient", """\
            TokenValidityUnits:
              AccessToken: minutes
              RefreshToken: days
            """), []),
        (_resource("AWS::Lambda::Function", """\
            Environment:
              Variables:
                DB_SECRET_ARN: arn:aws:secretsmanager:eu-west-1:111122223333:secret:db
            """), []),
        (_resource("AWS::ApiGateway::Method", """\
            Integration:
              Credentials: arn:aws:iam::111122223333:role/apigw-invoke
            """), []),  # names a role, holds no credential
        (_resource("AWS::Lambda::Function", f"""\
            Environment:
              Variables:
                RESULTS_DB_PASSWORD_URL: "postgres://jobs:{CFN_SECRET}@db.internal/results"
            """), []),  # a *_URL name is a locator (the secrets rules find the password in it)
    ],
)
def test_literal_secrets(template: str, lines: list[int]) -> None:
    found = [f for f in scan(template) if f.rule_id == "QG-IAC-021"]
    assert sorted(f.line for f in found) == lines
    assert all(CFN_SECRET not in f.message + (f.evidence or "") for f in found)


def test_literal_secret_in_a_json_template() -> None:
    template = json.dumps({
        "Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {
            "Environment": {"Variables": {"API_TOKEN": CFN_SECRET}}}}}}, indent=2)
    [finding] = [f for f in scan(template, "stack.json") if f.rule_id == "QG-IAC-021"]
    assert finding.line == 8 and "Fn Environment.Variables.API_TOKEN" in finding.message


# --- tamper evidence of the audit trail (QG-IAC-022, QG-IAC-023) ------------------------------

AUDIT = HEADER + """\
  Trail:
    Type: AWS::CloudTrail::Trail
    Properties:
      IsLogging: true
      S3BucketName: !Ref AuditLogs
      EnableLogFileValidation: true
  AuditLogs:
    Type: AWS::S3::Bucket
    Properties:
      ObjectLockEnabled: true
      ObjectLockConfiguration:
        ObjectLockEnabled: Enabled
        Rule:
          DefaultRetention: {Mode: COMPLIANCE, Days: 400}
"""


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("", "", []),
        ("      EnableLogFileValidation: true\n", "", [("QG-IAC-022", 3, Severity.MEDIUM)]),
        ("EnableLogFileValidation: true", "EnableLogFileValidation: false",
         [("QG-IAC-022", 8, Severity.MEDIUM)]),
        ("      ObjectLockEnabled: true\n", "", [("QG-IAC-023", 9, Severity.MEDIUM)]),
        ("        Rule:\n          DefaultRetention: {Mode: COMPLIANCE, Days: 400}\n", "",
         [("QG-IAC-023", 12, Severity.LOW)]),
        ("S3BucketName: !Ref AuditLogs", "S3BucketName: org-trail-bucket", []),
    ],
)
def test_audit_trail_tamper_evidence(
    old: str, new: str, expected: list[tuple[str, int, Severity]]
) -> None:
    assert old in AUDIT
    found = [f for f in scan(AUDIT.replace(old, new, 1))
             if f.rule_id in {"QG-IAC-022", "QG-IAC-023"}]
    assert sorted((f.rule_id, f.line, f.severity) for f in found) == expected


# --- open egress (QG-IAC-024) and notebook instances (QG-IAC-016, QG-IAC-025) ------------------

BRAKET_ROLE = """\
  JobRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - {Effect: Allow, Principal: {Service: braket.amazonaws.com}, Action: sts:AssumeRole}
"""
EGRESS_RULES = """\
  Sg:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: runner
      SecurityGroupEgress:
        - IpProtocol: "-1"
          CidrIp: 0.0.0.0/0
"""


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        # no SecurityGroupEgress: AWS's default allow-all rule (the group's line)
        (HEADER + "  Sg:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n"
         "      GroupDescription: runner\n", [(3, Severity.INFO)]),
        (HEADER + "  Sg:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n"
         "      GroupDescription: runner\n" + BRAKET_ROLE, [(3, Severity.MEDIUM)]),
        (HEADER + EGRESS_RULES, [(9, Severity.INFO)]),
        (HEADER + EGRESS_RULES + BRAKET_ROLE, [(9, Severity.MEDIUM)]),
        (HEADER + EGRESS_RULES.replace('"-1"', "tcp\n          FromPort: 443\n          ToPort: 443")
         + BRAKET_ROLE, []),
        (HEADER + EGRESS_RULES.replace("0.0.0.0/0", "10.0.0.0/8"), []),
    ],
)
def test_open_egress(template: str, expected: list[tuple[int, Severity]]) -> None:
    found = [f for f in scan(template) if f.rule_id == "QG-IAC-024"]
    assert sorted((f.line, f.severity) for f in found) == expected


@pytest.mark.parametrize(
    ("properties", "expected"),
    [
        ("InstanceType: ml.t3.medium\n", [("QG-IAC-016", 5), ("QG-IAC-025", 3)]),
        ("RootAccess: Enabled\nDirectInternetAccess: Disabled\n", [("QG-IAC-025", 6)]),
        ("RootAccess: Disabled\nDirectInternetAccess: Disabled\n", []),
        # chosen by a condition at deploy time: no claim either way
        ("RootAccess: !If [IsLab, Enabled, Disabled]\n"
         "DirectInternetAccess: !If [IsLab, Enabled, Disabled]\n", []),
    ],
)
def test_notebook_root_and_internet_access(properties: str, expected: list[Located]) -> None:
    template = _resource("AWS::SageMaker::NotebookInstance", properties)
    assert located(scan(template)) == expected
